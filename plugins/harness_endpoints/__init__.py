"""Models behind an OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, ``transformers serve`` ...): the
``openai`` model backend, and the one HTTP client every component that talks to such a server uses."""
