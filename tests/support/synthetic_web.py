"""Generated fixture web pages for crawls at scale (the distributed test, fault tests, bench/).

Producer ``i`` has a Kiwify checkout ``https://pay.kiwify.com.br/c{i:06d}`` and a sales link
``https://kiwify.app/s{i:06d}`` that redirects to a two-page site ``www.produtor{i}.com.br``
(a home page linking to ``/contato``, which shows the e-mail, a WhatsApp link and the link to
the checkout). The checkout and the site share the checkout link, so both sightings are one
lead. Pages are modelled on the platform reference, generated, never copied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CHECKOUT = """<!DOCTYPE html>
<html lang="pt-BR"><head><meta charset="utf-8">
<title>Curso Completo {i}</title>
<meta property="og:title" content="Curso Completo {i}">
<meta property="og:description" content="{name}">
<meta property="og:image" content="https://aws-assets.kiwify.com.br/cdn-cgi/image/fit=scale-down,width=600/{store}/capa.png">
</head><body><main class="checkout">
<h1>Curso Completo {i}</h1><p class="price">R$ 197,00 à vista</p>
<form class="buyer-form"><input name="email" placeholder="seuemail@exemplo.com"></form>
<footer><p>Ao clicar em Comprar, você concorda que a Kiwify está processando essa compra em nome de
{name} e que não possui responsabilidade pelo conteúdo.</p></footer>
</main></body></html>
"""

HOME = """<!DOCTYPE html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>{name}</title>
<meta property="og:site_name" content="{name}"></head>
<body><header><h1>{name}</h1><nav><a href="/contato">Contato</a></nav></header>
<main><p>Aprenda com quem faz há dez anos.</p></main></body></html>
"""

CONTACT = """<!DOCTYPE html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>Contato | {name}</title></head>
<body><h1>Fale conosco</h1>
<p>E-mail: <a href="mailto:contato@produtor{i}.com.br">contato@produtor{i}.com.br</a></p>
<p>WhatsApp: <a href="https://wa.me/55119{phone}">(11) 9{phone_fmt}</a></p>
<p><a href="https://pay.kiwify.com.br/{checkout}">Compre o curso</a></p>
</body></html>
"""


@dataclass(frozen=True)
class Producer:
    index: int
    name: str
    checkout_url: str
    sales_link: str
    site: str
    email: str


def producer(i: int) -> Producer:
    return Producer(
        index=i,
        name=f"Produtora Sintética {i}",
        checkout_url=f"https://pay.kiwify.com.br/c{i:06d}",
        sales_link=f"https://kiwify.app/s{i:06d}",
        site=f"https://www.produtor{i}.com.br/",
        email=f"contato@produtor{i}.com.br",
    )


def write_producers(root: Path, count: int, start: int = 0) -> list[Producer]:
    """Write ``count`` producers' pages under ``root`` (a fixture web root)."""
    checkouts = root / "pay.kiwify.com.br"
    checkouts.mkdir(parents=True, exist_ok=True)
    links = root / "kiwify.app"
    links.mkdir(parents=True, exist_ok=True)
    routes_file = links / "_routes.json"
    routes = json.loads(routes_file.read_text("utf-8")) if routes_file.exists() else {}
    made = []
    for i in range(start, start + count):
        p = producer(i)
        store = f"S{i:014d}"
        (checkouts / f"c{i:06d}").write_text(
            CHECKOUT.format(i=i, name=p.name, store=store), "utf-8"
        )
        routes[f"/s{i:06d}"] = {"status": 301, "headers": {"Location": p.site}}
        site = root / f"www.produtor{i}.com.br"
        site.mkdir(exist_ok=True)
        (site / "index.html").write_text(HOME.format(name=p.name), "utf-8")
        phone = f"8{i % 10_000_000:07d}"
        (site / "contato.html").write_text(
            CONTACT.format(
                i=i,
                name=p.name,
                phone=phone,
                phone_fmt=f"{phone[:4]}-{phone[4:]}",
                checkout=f"c{i:06d}",
            ),
            "utf-8",
        )
        made.append(p)
    routes_file.write_text(json.dumps(routes), "utf-8")
    return made
