"""A model behind an OpenAI-compatible server, as a model variant.

Its cache key is the name the requests use, what the server's ``/v1/models`` reports for that name (its
``id``, and ``root``/``parent`` where the server gives them, e.g. vLLM's weights path), the
``weights_id`` option, the mode and prompt format and every generation setting sent. The server's URL
is not in it: the same served model behind another port resumes from the same store. What the key
cannot hold is the server's own state (its weights if it serves others under the same name, its engine,
batching and kernels), so a server's answers are not guaranteed to be deterministic: the manifest says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.fingerprint import digest
from harness.types import (
    Context,
    GenerationOutput,
    HarnessError,
    LoadedModel,
    ModelVariant,
    Prompt,
    Resources,
    check_option_types,
)

from . import payloads
from .client import Client, EndpointError, RequestRefused, api_key

FORMAT_VERSION = "harness_endpoints/v1"
DEFAULT_URL = "http://127.0.0.1:8000/v1"
MODES = ("auto", *payloads.MODES)
DETERMINISM = ("not guaranteed: greedy settings are sent (temperature 0, top_p 1, the run's seed), but the "
               "server's engine, batching and hardware decide the tokens, and the weights behind a served "
               "name can change without the name changing")
#: a refusal that concerns one prompt only (vLLM, TGI and llama.cpp word it so): that row is missing with
#: the reason; any other refusal stops the run, since it would refuse every row
PER_PROMPT = re.compile(r"context length|context window|too long|maximum.{0,40}tokens|exceeds", re.IGNORECASE)

DEFAULTS: dict[str, Any] = {
    "model": "", "backend": "", "base_url": DEFAULT_URL, "mode": "auto", "api_key_env": "",
    "max_concurrency": 8, "timeout": 120.0, "max_retries": 5, "backoff": 0.5, "send_seed": True,
    "prompt_format": "", "system_prompt": "", "weights_id": "", "family": "", "recipe": "",
}


def client_of(options: Mapping[str, Any], what: str) -> Client:
    """The shared client built from a component's endpoint options (also the LLM judge's)."""
    return Client(str(options.get("base_url") or DEFAULT_URL), api_key(str(options.get("api_key_env") or ""), what),
                  timeout=float(options.get("timeout", 120.0)), max_retries=int(options.get("max_retries", 5)),
                  backoff=float(options.get("backoff", 0.5)), max_concurrency=int(options.get("max_concurrency", 8)))


def check_endpoint_options(component: str, options: Mapping[str, Any]) -> None:
    """Ranges of the options every endpoint component shares; one line each."""
    url = str(options.get("base_url", DEFAULT_URL))
    if not re.match(r"^https?://[^/\s]+", url):
        raise HarnessError(f"option {component}.base_url must be an http(s) URL such as {DEFAULT_URL}, got {url!r}")
    for key, low in (("max_concurrency", 1), ("max_retries", 0)):
        if key in options and int(options[key]) < low:
            raise HarnessError(f"option {component}.{key} must be at least {low}, got {options[key]!r}")
    for key in ("timeout", "backoff"):
        if key in options and not (float(options[key]) >= 0 and math.isfinite(float(options[key]))):
            raise HarnessError(f"option {component}.{key} must be a number of seconds >= 0, got {options[key]!r}")
    env = str(options.get("api_key_env") or "")
    if env and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", env):
        raise HarnessError(f"option {component}.api_key_env names an environment variable (e.g. OPENAI_API_KEY), "
                           f"not the key itself")


def reported(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What a ``/v1/models`` entry says about the served weights (never ``created``: vLLM stamps the time)."""
    return {k: entry[k] for k in ("id", "root", "parent") if entry.get(k) is not None}


def refusal_of(client: Client, path: str) -> Callable[[RequestRefused], dict[str, Any]]:
    """What a refused request means: that row missing with the reason when the refusal concerns that input
    only (too long), else one line that stops the run (it would refuse every row)."""

    def refused(exc: RequestRefused) -> dict[str, Any]:
        if exc.status in (400, 413, 422) and PER_PROMPT.search(exc.detail):
            return {"refused": str(exc)}
        hint = {401: "check the key in api_key_env", 403: "check the key in api_key_env",
                404: "check base_url (it should end in /v1)"}.get(exc.status, "check the endpoint options")
        raise EndpointError(f"{client.base_url}{path} refused a request ({exc}): {hint}")

    return refused


class EndpointVariant(ModelVariant):
    """The model a server serves under ``served`` (the ``NAME`` of ``openai:NAME``)."""

    def __init__(self, name: str, served: str, base_url: str, options: dict[str, Any]) -> None:
        self.name = name
        self.served = served
        self.default_options = {**DEFAULTS, "base_url": base_url or DEFAULT_URL}
        self.family = str(options.get("family") or name)
        self.recipe = str(options.get("recipe") or "base")
        self.description = f"{served} served at {self.default_options['base_url']} (OpenAI-compatible API)"
        #: base URL -> what /models reported when the fingerprint was taken (load checks it still holds)
        self._planned: dict[str, dict[str, Any]] = {}

    def options(self, ctx: Context) -> dict[str, Any]:
        return {**self.default_options, **dict(ctx.options)}

    def check_options(self, options: Mapping[str, Any]) -> None:
        check_option_types(self.name, self.default_options, options)
        check_endpoint_options(self.name, options)
        if options.get("mode", "auto") not in MODES:
            from harness.choices import unknown

            raise unknown(f"option {self.name}.mode", str(options["mode"]), MODES)

    def resources(self, ctx: Context) -> Resources:
        return Resources(num_cpus=1.0, num_gpus=0.0)  # the server does the work

    def describe(self) -> dict[str, Any]:
        return {"family": self.family, "recipe": self.recipe, "model": self.served,
                "endpoint": self.default_options["base_url"], "determinism": DETERMINISM}

    def request_shape(self, ctx: Context) -> dict[str, Any]:
        """Mode, prompt format, system prompt and the settings sent: all in the cache key."""
        opts = self.options(ctx)
        fmt = str(opts.get("prompt_format") or ctx.generation.prompt_format)
        if ctx.generation.do_sample:
            raise HarnessError(f"model {self.name}: endpoint models decode greedily; set generation.do_sample = false")
        mode = str(opts.get("mode") or "auto")
        if mode == "auto":
            mode = "chat" if fmt == "chat" else "completions"
        if mode == "chat" and fmt != "chat":
            raise HarnessError(f"model {self.name}: mode 'chat' sends each prompt as a user turn for the server's chat "
                               f"template, but the prompt format is {fmt!r}: set {self.name}.prompt_format = 'chat', "
                               f"or mode = 'completions' to send the {fmt!r}-formatted text")
        if mode == "completions":
            if fmt == "chat":
                raise HarnessError(f"model {self.name}: a completion gets no chat template; use mode 'chat' (or "
                                   f"'auto') for prompt format 'chat'")
            from harness_opt.prompting import check_format

            check_format(fmt)
        seed = ctx.seed if bool(opts.get("send_seed", True)) else None
        return {"mode": mode, "prompt_format": fmt, "system_prompt": str(opts.get("system_prompt") or ""),
                "settings": payloads.sampling(ctx.generation.max_new_tokens, seed)}

    def fingerprint(self, ctx: Context) -> str:
        shape = self.request_shape(ctx)
        opts = self.options(ctx)
        entry = client_of(opts, f"model {self.name}").served_entry(self.served)
        self._planned[str(opts["base_url"])] = reported(entry)
        return digest(FORMAT_VERSION, "openai", self.served, reported(entry),
                      str(self.options(ctx).get("weights_id") or ""), shape)

    def load(self, ctx: Context) -> LoadedModel:
        opts = self.options(ctx)
        client = client_of(opts, f"model {self.name}")
        entry = client.served_entry(self.served)
        planned = self._planned.get(str(opts["base_url"]))
        if planned is not None and reported(entry) != planned:
            # the rows would be stored under the planned fingerprint but come from other weights
            raise HarnessError(f"model {self.name}: {opts['base_url']} now reports {reported(entry)} for "
                               f"{self.served!r}, not {planned} as when the run was planned; the server "
                               f"changed its weights: run the same command again to plan against them")
        return LoadedEndpoint(client, self.served, reported(entry), self.request_shape(ctx))


class LoadedEndpoint(LoadedModel):
    """Sends each batch's prompts concurrently (at most ``max_concurrency`` in flight)."""

    def __init__(self, client: Client, served: str, entry: Mapping[str, Any], shape: Mapping[str, Any]) -> None:
        self.client, self.served, self.entry, self.shape = client, served, dict(entry), dict(shape)
        self.mode = str(shape["mode"])

    def text_of(self, prompt: Prompt) -> str:
        if self.mode == "chat":
            return prompt.text
        from harness_opt.prompting import format_prompt

        return format_prompt(prompt.text, str(self.shape["prompt_format"]))

    def bodies(self, prompts: Sequence[Prompt]) -> list[dict[str, Any]]:
        return [payloads.body(self.mode, self.served, self.text_of(p), self.shape["settings"],
                              self.shape["system_prompt"]) for p in prompts]

    def generate(self, prompts: Sequence[Prompt]) -> list[GenerationOutput]:
        path = payloads.PATHS[self.mode]
        answers = self.client.post_many(path, self.bodies(prompts), refusal_of(self.client, path))
        out = []
        for parsed in answers:
            if "refused" in parsed:
                out.append(GenerationOutput("", {"error": f"the server refused this prompt: {parsed['refused']}"}))
                continue
            text, meta = payloads.answer(self.mode, parsed)
            out.append(GenerationOutput(text, meta))
        return out

    def auto_batch_size(self, prompts: Sequence[Prompt]) -> int:
        """A few rounds of ``max_concurrency`` requests: each batch is committed, so a dead server loses
        at most one batch of answers."""
        return self.client.max_concurrency * 4

    def run_facts(self) -> dict[str, Any]:
        return {"endpoint": self.client.base_url, "model": self.served, "served": self.entry, "mode": self.mode,
                "settings": self.shape["settings"], "usage": self.client.tally.as_dict(), "determinism": DETERMINISM}
