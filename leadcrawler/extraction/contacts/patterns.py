"""Text patterns of e-mails (obfuscated spellings, Cloudflare's encoding) and phones."""

from __future__ import annotations

import re
from urllib.parse import unquote

from leadcrawler.domain.emails import EMAIL_LOCAL_PART, EMAIL_TLD

_OBF_AT = r"(?:\s*[\[({<]\s*(?:arroba|at|@)\s*[\])}>]\s*|\s+arroba\s+|\s+@\s*|\s*@\s+)"
_OBF_DOT = r"(?:\s*[\[({<]\s*(?:ponto|dot|\.)\s*[\])}>]\s*|\s+(?:ponto|dot)\s+|\.)"
OBF_BARE_DOT = re.compile(r"\s+(?:ponto|dot)\s+", re.IGNORECASE)
OBF_RE = re.compile(
    rf"(?<![\w.+-])({EMAIL_LOCAL_PART}){_OBF_AT}([\w-]{{1,63}}(?:{_OBF_DOT}[\w-]{{1,63}})*{_OBF_DOT}{EMAIL_TLD})"
    r"(?![\w-]|\.[^\W\d_])",
    re.IGNORECASE,
)
OBF_DOT_RE = re.compile(_OBF_DOT, re.IGNORECASE)
CF_PATH = "/cdn-cgi/l/email-protection"

# Phone labels (folded text). A number right after one, or in a block that starts with
# one, or in the block after a block that is only a label, is "labelled".
_LABELS = (
    r"telefones?|tel|fones?|celular|cel|whatsapp|whats|wpp|zap|contatos?|atendimento|sac"
    r"|ligue(?: para)?|fale conosco|suporte|comercial|phone|call"
)
LABEL_BEFORE_RE = re.compile(rf"\b({_LABELS})\b\W{{0,6}}(?:\w{{1,4}}\W{{1,3}})?$")
LABEL_START_RE = re.compile(rf"^\W*({_LABELS})\b")
LABEL_ONLY_RE = re.compile(rf"^\W*({_LABELS})(?:\W+(?:{_LABELS}|e|ou))*\W*$")
# Digit groups that are not phones: CNPJ, CPF, dates, CEP; blanked before the phone search.
NOT_PHONE_RE = re.compile(
    r"\d{2}\.?\d{3}\.?\d{3}\s?/\s?\d{4}-?\d{2}"  # CNPJ
    r"|\d{3}\.\d{3}\.\d{3}-\d{2}"  # CPF
    r"|\d{1,2}/\d{1,2}/\d{2,4}"  # date
    r"|\b(?:cep|cpf|cnpj)\W{0,3}[\d.\-/]+",  # labelled numbers
    re.IGNORECASE,
)
DIGIT_RE = re.compile(r"\d")  # any decimal digit (Unicode Nd, as libphonenumber reads them)
URL_IN_TEXT_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
PHONE_SEPARATOR_RE = re.compile(r"[\s().+-]")


def decode_cfemail(encoded: str) -> str | None:
    """Decode Cloudflare's e-mail obfuscation (``data-cfemail`` / ``email-protection#``).

    The hex string's first byte is the XOR key for every following byte; the result is
    UTF-8. None when ``encoded`` is not such a string.
    """
    try:
        data = bytes.fromhex(encoded.strip())
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    try:
        return bytes(byte ^ key for byte in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None


def mailto_addresses(value: str) -> list[str]:
    """The addresses of a ``mailto:`` link (or of a bare address), without its query."""
    value = value.strip()
    if value[:7].lower() == "mailto:":
        value = value[7:]
    return [a for a in unquote(value.split("?", 1)[0]).split(",") if a.strip()]
