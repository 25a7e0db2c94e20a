"""TikTok's HTTP surface: thin translations between requests, the domain and TikTok's shapes."""
