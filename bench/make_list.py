"""Write a synthetic raw list of N people (pt-BR headers, ';', UTF-8): the bench input.

    python bench/make_list.py 100000 /tmp/list.csv [--domains 2000]

Each person has a name, an e-mail on one of --domains company domains, a mobile and a
company; every tenth row repeats an earlier person written differently (upper-case
e-mail, phone in another format).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def write_list(count: int, path: Path, domains: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Nome;E-mail;Telefone;Empresa\r\n")
        for i in range(count):
            if i % 10 == 9:
                n = i - 5
                out.write(
                    f"PRODUTOR {n};PRODUTOR{n}@EMPRESA{n % domains}.COM.BR;+55119{n:08d};\r\n"
                )
                continue
            phone = f"(11) 9{i:08d}"
            phone = f"{phone[:10]}-{phone[10:]}"
            out.write(
                f"Produtor {i};produtor{i}@empresa{i % domains}.com.br;{phone};Empresa {i}\r\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--domains", type=int, default=2000)
    args = parser.parse_args()
    write_list(args.count, args.path, args.domains)


if __name__ == "__main__":
    main()
