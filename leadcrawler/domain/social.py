"""Social networks and link hubs: sites whose domain is shared by everyone with a page there."""

from __future__ import annotations

# A producer whose "website" is an Instagram profile or a link hub has no domain of their own.
SHARED_SITE_DOMAINS = frozenset(
    {
        "instagram.com", "facebook.com", "fb.com", "youtube.com", "youtu.be", "tiktok.com",
        "linkedin.com", "twitter.com", "x.com", "threads.net", "pinterest.com", "t.me",
        "telegram.me", "wa.me", "whatsapp.com", "linktr.ee", "beacons.ai", "bio.link",
        "google.com", "bit.ly",
    }
)  # fmt: skip
