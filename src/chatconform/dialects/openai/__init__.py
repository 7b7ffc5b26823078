"""The OpenAI Chat Completions dialect (POST /chat/completions), id ``openai``."""
