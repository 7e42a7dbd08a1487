"""``@handles`` written as text, and the network nearby words tie them to."""

from __future__ import annotations

import re

# @handles written as text (folded text). A network word near the handle ties it to that
# network; a follow word ("siga", "me segue", "perfil") ties it to the network the page
# links profiles of (Instagram when it links none); a line that is only the handle needs
# the page's own profile links of one network.
HANDLE_RE = re.compile(r"(?<![\w.@/:+-])@([A-Za-z0-9_][A-Za-z0-9_.]{0,39})")
NETWORK_CUES = (
    ("instagram", re.compile(r"\b(?:insta(?:gram)?|ig)\b")),
    ("tiktok", re.compile(r"\btik\s?tok\b")),
    ("youtube", re.compile(r"\b(?:youtube|canal)\b")),
    ("x", re.compile(r"\btwitter\b")),
    ("telegram", re.compile(r"\btelegram\b")),
)
FOLLOW_CUE_RE = re.compile(
    r"\b(?:perfil|perfis|sig[ao]m?|siga-(?:me|nos)|segue|seguir|acompanhe|redes sociais)\b"
)
# Words that put someone else's handle on the page: photo credits, partners, students.
OTHER_PERSON_RE = re.compile(
    r"\b(?:fotos?|fotografia|creditos?|parceri[ao]s?|parceir[oa]s?|colab\w*|collab\w*"
    r"|alun[oa]s?|clientes?|depoimentos?|modelo|convidad[oa]s?|marcou|marque)\b"
)
HANDLE_PROFILE_URLS = {
    "instagram": "https://www.instagram.com/{}/",
    "tiktok": "https://www.tiktok.com/@{}",
    "youtube": "https://www.youtube.com/@{}",
    "x": "https://x.com/{}",
    "telegram": "https://t.me/{}",
}
DOMAIN_ENDING_RE = re.compile(r"\.(?:com|net|org|br|io|app|me|co|gov|edu)(?:\.br)?$", re.IGNORECASE)
MAX_TEXT_HANDLES = 3  # more on one page: a list of people (team, guests), not the producer
