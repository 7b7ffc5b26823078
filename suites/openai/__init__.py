"""Cases in the OpenAI Chat Completions dialect."""
