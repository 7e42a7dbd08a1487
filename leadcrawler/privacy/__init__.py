"""LGPD by construction: the pure privacy rules, shared by the chain, the CLI and the API.

- :mod:`.config`: legal basis, purpose, legitimate-interest assessment reference,
  retention and the suppression pepper, read from settings and the environment.
- :mod:`.keys`: who a value names. Normalises an e-mail, a phone in any format, a social
  profile URL, a CNPJ, a checkout URL or a seller id into the same identity keys the
  dedupe stage uses, and hashes them with a keyed HMAC-SHA256 (the suppression list
  never holds a clear value).
- :mod:`.minimise`: the declared allowlist of what is stored per lead and contact; CPF
  numbers and buyers' data are discarded before anything is stored or logged.
- :mod:`.gate`: the one call the enricher makes per sighting (minimise, stamp the legal
  basis, check the suppression list) before any site visit or DNS lookup.

Nothing here knows Scrapy or SQL; the storage side is :mod:`leadcrawler.storage.privacy`.
"""
