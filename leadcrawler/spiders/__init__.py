"""Source spiders: one per platform, plus discovery spiders that fill the frontier."""
