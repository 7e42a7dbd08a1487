"""A raw list as a sales team has it: cp1252, ';', pt-BR headers, people written twice
in other spellings, a note spanning two lines, and about one row in ten of garbage.

Used by the import's end-to-end test and by ``bench/intake_acceptance.py``.
"""

from __future__ import annotations

from pathlib import Path


def mobile(n: int) -> str:
    """Person ``n``'s mobile in E.164 (unique up to 100 million people)."""
    return f"+55119{n:08d}"


# Where Brazilians' mailboxes are: most people on a list use a personal webmail address.
WEBMAIL = (
    "gmail.com",
    "hotmail.com",
    "outlook.com",
    "yahoo.com.br",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
    "icloud.com",
)


def email_domain(n: int, mix: bool) -> str:
    """Person ``n``'s e-mail domain: their own company's (``mix`` False: every person a
    distinct domain, the worst case for MX checks), or as a real list has them (``mix``:
    six people in ten on a webmail provider, the others two to a company domain)."""
    if not mix:
        return f"empresa{n}.com.br"
    if n % 10 < 6:
        return WEBMAIL[n % len(WEBMAIL)]
    return f"empresa{n // 2}.com.br"


def messy_list(path: Path, people: int, *, mix: bool = False) -> tuple[set[int], int]:
    """Write a cp1252 ';' list; returns the garbage rows' lines and the records written.
    ``mix``: e-mail domains as :func:`email_domain` says."""
    lines: list[str] = ["Nome;E-MAIL;Telefone Celular;Observações;Empresa"]
    garbage: set[int] = set()
    line = 1

    def add(text: str, *, bad: bool = False) -> None:
        nonlocal line
        line += 1
        lines.append(text)
        if bad:
            garbage.add(line)
        line += text.count("\n")  # a quoted cell with a line break spans two lines

    for n in range(people):
        email = f"pessoa{n}@{email_domain(n, mix)}"
        digits = mobile(n)[6:]
        add(
            f"Pessoa Número {n};{email};(11) 9{digits[:4]}-{digits[4:]};cliente antiga;"
            f"Empresa {n} Ltda"
        )
        if n % 3 == 0:  # the same person again, written differently
            add(f"PESSOA NÚMERO {n};{email.upper()};{mobile(n)};;")
        if n % 10 == 0:  # and once more with a note spanning two lines
            add(f'pessoa número {n};{email};;"liga de manhã\nsó depois das 9";')
        if n % 8 == 0:  # garbage: about one row in ten
            kind = n // 8 % 6
            if kind == 0:
                add("Só um nome;;;;", bad=True)
            elif kind == 1:
                add("Fulano;fulano-arroba-nada;123;;", bad=True)
            elif kind == 2:
                add(';\'; DROP TABLE leads;--;=HYPERLINK("http://x");;', bad=True)
            elif kind == 3:  # a 100 KB cell (a few of them: the file stays small)
                add(";;;" + "x" * (100_000 if n < 2_000 else 500) + ";", bad=True)
            elif kind == 4:
                add("Ninguém;@@@;(00) 0000-0000;;", bad=True)
            else:
                add("=1+1;nao e email;abc;;", bad=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return garbage, len(lines) - 1
