"""Keep credentials out of the store.

Two defences, both applied before anything is written:

* Environment variables are recorded only from an allow-list (plus the
  ``TRACKBOOK_`` prefix), never when their name looks secret, and never when
  their value looks like a credential; a password in a store URL is masked.
* Text that holds user content (code, history, outputs, tracebacks, params,
  tags) goes through :class:`Redactor`: known secret values (from the
  environment), passwords in URLs, well-known token formats, private key
  blocks, ``Authorization`` headers, and string values assigned to a
  secret-looking name are replaced by ``***REDACTED***``.

Secret-looking names. For environment variables the test is
:data:`SECRET_NAME_PATTERN`, a substring match: they are dropped anyway, so
erring on the safe side costs nothing. For names in code and parameters the
test is :func:`is_secret_name`, word by word, because ordinary code is full of
such substrings (``key = 'species'``, ``sort_key``, ``tokenizer``,
``pad_token``, ``author``): the words secret, password, passwd, passphrase,
credential(s), creds, token, cookie, auth/oauth/authorization, bearer, jwt,
session id, and *key* qualified by a word that is not a data-structure word
(``api_key``, ``access_key``, ``private_key``; but not ``key``, ``keys``,
``sort_key``, ``primary_key``, ``s3_key``). Numbers assigned to such names
are kept (``token_limit = 4096``).

Speed: Python's regex engine cannot skip ahead through an alternation, so a
single combined pattern tries every branch at every character (7-20 ms for
64 KB). Each token format is therefore its own pattern starting with a
literal, which the engine finds with a fast substring search; case-insensitive
rules run on a lower-cased copy; secret names are found by searching for a few
trigger words. All rules report spans, applied in one pass at the end.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

REDACTED = "***REDACTED***"

#: Environment variable names that may hold secrets (substring, case-insensitive).
SECRET_NAME_PATTERN = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|AUTH|SESSION|COOKIE", re.IGNORECASE
)

#: Environment variables worth recording: they change results or locate the run.
ENV_ALLOW_LIST = frozenset({
    # hashing, threads and determinism
    "PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS", "NUMEXPR_MAX_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS",
    "MKL_CBWR", "KMP_AFFINITY", "TOKENIZERS_PARALLELISM",
    # GPUs and frameworks
    "CUDA_VISIBLE_DEVICES", "CUDA_LAUNCH_BLOCKING", "CUBLAS_WORKSPACE_CONFIG",
    "PYTORCH_CUDA_ALLOC_CONF", "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC",
    "TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL", "XLA_FLAGS", "JAX_PLATFORMS",
    "JAX_ENABLE_X64", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE",
    # locale and time
    "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ", "SOURCE_DATE_EPOCH",
    # interpreter and environment managers
    "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONOPTIMIZE", "PYTHONWARNINGS",
    "CONDA_DEFAULT_ENV", "CONDA_PREFIX", "VIRTUAL_ENV", "MPLBACKEND",
    # Jupyter: which notebook the kernel runs
    "JPY_SESSION_NAME",
})
#: Prefixes of recorded variables (trackbook's own settings).
ENV_ALLOW_PREFIXES = ("TRACKBOOK_",)
#: Allow-listed names that contain a secret word but hold no secret.
_NAME_PATTERN_EXEMPT = frozenset({"JPY_SESSION_NAME", "TOKENIZERS_PARALLELISM"})

#: Extra values shorter than this are not redacted (they would clobber ordinary text).
MIN_SECRET_LENGTH = 4
_MIN_ENV_SECRET_LENGTH = 6
_STRONG_ENV_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|KEY", re.IGNORECASE)


# -- names ---------------------------------------------------------------------------

_WORD = re.compile(r"[A-Z]+\d*(?![a-z])|[A-Z]?[a-z]+\d*|\d+")
_SECRET_WORDS = frozenset({
    "secret", "secrets", "password", "passwords", "passwd", "passphrase", "credential",
    "credentials", "creds", "token", "apikey", "apikeys", "accesskey", "secretkey", "privatekey",
    "cookie", "cookies", "auth", "oauth", "authorization", "bearer", "jwt", "sessionid",
    "authtoken", "accesstoken", "refreshtoken",
})
_SECRET_SUFFIXES = ("token", "secret", "password", "passwd", "apikey")
#: ``<word>_key`` where word names a data structure, not a credential.
_BENIGN_KEY_QUALIFIERS = frozenset({
    "sort", "primary", "foreign", "partition", "dict", "cache", "lookup", "group", "join",
    "merge", "hash", "index", "map", "row", "column", "col", "unique", "composite", "natural",
    "surrogate", "s3", "object", "obj", "blob", "bucket", "file", "path", "prefix", "config",
    "cfg", "json", "yaml", "metric", "result", "label", "target", "id", "x", "y", "hue",
    "color", "legend", "data", "dataset", "feature", "table", "field", "attr", "attribute",
    "prop", "property", "dedup", "by", "on", "node", "edge", "item", "entry", "record",
    "cluster", "layer", "param", "state", "sample", "split", "fold", "run", "model", "task",
})
#: ``<word>_token`` / ``token_<word>`` in NLP code: special tokens and token counts.
_BENIGN_TOKEN_NEIGHBOURS = frozenset({
    "pad", "bos", "eos", "unk", "cls", "sep", "mask", "sos", "special", "start", "end", "max",
    "min", "num", "n", "total", "input", "output", "added", "stop", "type", "types", "id",
    "ids", "count", "counts", "len", "length", "limit", "size", "index", "idx", "pattern",
    "regex", "embedding", "embeddings", "level", "kind", "offset", "budget",
})


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a name in code or a parameter key says its value is a credential.

    Word-based (see the module docstring): ``api_key``, ``GITHUB_TOKEN``,
    ``db_password``, ``X-Api-Key`` are secret; ``key``, ``sort_key``,
    ``tokenizer``, ``pad_token``, ``max_tokens``, ``author`` are not.
    """
    words = [word.lower() for word in _WORD.findall(name)]
    for index, word in enumerate(words):
        before = words[index - 1] if index else None
        after = words[index + 1] if index + 1 < len(words) else None
        if word == "token":
            if before not in _BENIGN_TOKEN_NEIGHBOURS and after not in _BENIGN_TOKEN_NEIGHBOURS:
                return True
        elif word in _SECRET_WORDS:
            return True
        elif word in ("key", "keys"):
            if before is not None and before not in _BENIGN_KEY_QUALIFIERS:
                return True
        elif (word == "session" and after == "id") or word.endswith(_SECRET_SUFFIXES):
            return True
    return False


# -- token formats -----------------------------------------------------------------------

#: A replacement: ``text[start:end]`` becomes ``replacement``.
Span = tuple[int, int, str]
_LOWER_REDACTED = REDACTED.lower()


def _whole(match: re.Match[str]) -> Span | None:
    return match.start(), match.end(), REDACTED


def _word_start(needs_digit: bool) -> Callable[[re.Match[str]], Span | None]:
    """Redact a token only where it starts a word (``sk-`` in ``task-...`` is no key)."""

    def spans(match: re.Match[str]) -> Span | None:
        start = match.start()
        before = match.string[start - 1] if start else " "
        if before.isalnum() or before in "_-":
            return None
        if needs_digit and not any(char.isdigit() for char in match.group(0)):
            return None
        return start, match.end(), REDACTED

    return spans


def _url_userinfo(match: re.Match[str]) -> Span | None:
    password = match.group("password")
    if password is not None:
        if password == "***":
            return None
        return match.start("password"), match.end("password"), "***"
    if len(match.group("user")) < 20 or REDACTED in match.group("user"):
        return None  # a plain user name; 20+ characters is a token (https://<token>@host)
    return match.start("user"), match.end("user"), REDACTED


def _credential_group(match: re.Match[str]) -> Span | None:
    if _LOWER_REDACTED in match.group("cred"):
        return None
    return match.start("cred"), match.end("cred"), REDACTED


_Rule = tuple[re.Pattern[str], bool, Callable[[re.Match[str]], "Span | None"]]

#: (pattern, runs on the lower-cased text, span of a match). Every pattern
#: starts with a literal so the regex engine can skip to candidates quickly.
_URL_RULE: _Rule = (re.compile(
    r"://(?P<user>[^\s/:@'\"<>\\]*)(?::(?P<password>[^\s/@'\"<>\\]+))?@"), False, _url_userinfo)
_CREDENTIAL_RULES: tuple[_Rule, ...] = (
    (re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
                r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)"), False, _whole),
    (re.compile(r"authorization['\"]?\s*[:=]\s*['\"]?(?:(?:basic|bearer|token|digest)\s+)?"
                r"(?P<cred>[^\s'\",;]+)"), True, _credential_group),
    (re.compile(r"bearer[ \t]+(?P<cred>[a-z0-9._~+/=-]{8,})"), True, _credential_group),
    (re.compile(r"A(?:KIA|SIA)[0-9A-Z]{16}(?![0-9A-Za-z])"), False, _word_start(False)),
    (re.compile(r"gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}"), False, _whole),
    (re.compile(r"xox[abeprs]-[A-Za-z0-9-]{10,}"), False, _whole),
    (re.compile(r"AIza[0-9A-Za-z_-]{35}"), False, _whole),
    (re.compile(r"sk-[A-Za-z0-9_-]{20,}"), False, _word_start(True)),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), False, _whole),
)
_ALL_RULES = (_URL_RULE, *_CREDENTIAL_RULES)


def _lower_same_length(text: str) -> str:
    lowered = text.lower()
    if len(lowered) != len(text):  # rare non-ASCII case changes: keep offsets aligned
        lowered = "".join(char.lower() if len(char.lower()) == 1 else char for char in text)
    return lowered


def _rule_spans(text: str, lowered: str, rules: Iterable[_Rule]) -> list[Span]:
    spans: list[Span] = []
    for pattern, on_lowered, span_of in rules:
        for match in pattern.finditer(lowered if on_lowered else text):
            span = span_of(match)
            if span is not None:
                spans.append(span)
    return spans


# -- name = value ------------------------------------------------------------------------

_TRIGGERS = ("key", "token", "secret", "pass", "cred", "auth", "cookie", "session")
_IDENT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_IDENT_TAIL = re.compile(r"[A-Za-z0-9_-]*")
_ASSIGNMENT = re.compile(
    r"""(?P<close>['"]?\]?)"""
    r"""(?P<annotation>[ \t]*:[ \t]*[A-Za-z_][\w.\[\], |]*?(?=[ \t]*=[^=]))?"""
    r"""(?P<before>[ \t]*)(?P<op>:=|==|!=|=|:)(?P<after>[ \t]*)"""
    r"""(?:(?P<prefix>[rRbBuUfF]{0,2})(?P<quote>'|")(?P<quoted>[^\n]*?)(?P=quote)"""
    r"""|(?P<bare>[^\s'"`,;()\[\]{}]+))"""
)
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_PLAIN_WORDS = frozenset({"True", "False", "None", "true", "false", "none", "null"})
_AUTH_SCHEMES = frozenset({"basic", "bearer", "token", "digest"})
_TYPE_NAMES = frozenset({"str", "int", "float", "bool", "bytes", "dict", "list", "tuple", "object", "Any"})


def _assignment_spans(text: str, lowered: str) -> list[Span]:
    """Values assigned to secret-looking names (``api_key = "..."``, ``{"password": ...}``)."""
    checked: set[int] = set()
    spans: list[Span] = []
    for trigger in _TRIGGERS:
        position = lowered.find(trigger)
        while position != -1:
            tail = _IDENT_TAIL.match(text, position)
            end = tail.end() if tail is not None else position
            if end not in checked:
                checked.add(end)
                match = _ASSIGNMENT.match(text, end)
                if match is not None:
                    start = position
                    while start and text[start - 1] in _IDENT_CHARS:
                        start -= 1
                    name = text[start:end]
                    if is_secret_name(name):
                        span = _value_span(name, match)
                        if span is not None:
                            spans.append((span[0], span[1], REDACTED))
            position = lowered.find(trigger, end)
    return spans


def _value_span(name: str, match: re.Match[str]) -> tuple[int, int] | None:
    quoted = match.group("quoted")
    if quoted is not None:
        if not quoted or REDACTED in quoted or quoted == "***":
            return None
        return match.span("quoted")
    bare = match.group("bare")
    if REDACTED in bare or _NUMBER.fullmatch(bare) or bare in _PLAIN_WORDS:
        return None
    if bare.lower() in _AUTH_SCHEMES:
        return None  # ``Authorization: Bearer <token>``: the token rule handled the credential
    following = match.string[match.end():match.end() + 1]
    if following in ("(", "[", "."):
        return None  # a call or subscript: code, not a value
    op = match.group("op")
    shell_style = name.startswith("-") or (
        op == "=" and not match.group("before") and not match.group("after")
        and not any(char.islower() for char in name)
    )
    code_like = _DOTTED_NAME.fullmatch(bare) is not None and not any(char.isdigit() for char in bare)
    if shell_style:
        return match.span("bare")
    if op == ":" and not match.group("close"):
        # ``name: value`` is YAML or a header, unless it is a type annotation.
        if bare in _TYPE_NAMES or (code_like and bare[:1].isupper()):
            return None
        return match.span("bare")
    return None if code_like else match.span("bare")


# -- public API ----------------------------------------------------------------------------


#: Redacted texts a :class:`Redactor` remembers before starting afresh.
_MEMO_LIMIT = 4096


def redactor_for(environ: Mapping[str, str]) -> Redactor:
    """The redactor for the current secret values, reused while they stay the same."""
    key = _environ_key(environ)
    cached = _REDACTOR_BY_ENVIRON.get(key)
    if cached is not None:
        return cached
    values = tuple(secret_values(environ))
    redactor = _REDACTORS.get(values)
    if redactor is None:
        _REDACTORS.clear()  # secrets changed: forget texts redacted for the old ones
        redactor = _REDACTORS[values] = Redactor(values)
    _REDACTOR_BY_ENVIRON.clear()
    _REDACTOR_BY_ENVIRON[key] = redactor
    return redactor


def _environ_key(environ: Mapping[str, str]) -> Any:
    # Reading os.environ decodes every name and value; its raw mapping is a
    # plain dict of bytes, so a snapshot of it is a cheap way to notice a change.
    raw = getattr(environ, "_data", None)
    items = raw.items() if isinstance(raw, dict) else environ.items()
    return tuple(items)


_REDACTORS: dict[tuple[str, ...], "Redactor"] = {}
_REDACTOR_BY_ENVIRON: dict[Any, "Redactor"] = {}


class Redactor:
    """Replaces credentials in text with ``***REDACTED***``.

    Parameters
    ----------
    extra_values:
        Known secret values (e.g. :func:`secret_values` of the environment),
        redacted wherever they appear; values shorter than
        :data:`MIN_SECRET_LENGTH` are ignored.
    """

    def __init__(self, extra_values: Iterable[str] = ()) -> None:
        values = {value for value in extra_values if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is replaced whole.
        self._values = sorted(values, key=len, reverse=True)
        # Every tracked cell redacts the whole execution history again; the
        # same inputs give the same answer, so remember them (bounded).
        self._memo: dict[str, str] = {}

    def redact(self, text: str) -> str:
        """``text`` with every credential replaced; the same object when nothing matched."""
        if not text or not isinstance(text, str):
            return text
        cached = self._memo.get(text)
        if cached is not None:
            return cached
        result = self._redact(text)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[text] = result
        return result

    def _redact(self, text: str) -> str:
        result = text
        for value in self._values:
            if value in result:
                result = result.replace(value, REDACTED)
        lowered = _lower_same_length(result)
        # Credentials in a URL need an "@"; most text has none, and URLs are common.
        spans = _rule_spans(result, lowered, _ALL_RULES if "@" in result else _CREDENTIAL_RULES)
        spans.extend(_assignment_spans(result, lowered))
        if spans:
            result = _apply(result, spans)
        return text if result == text else result

    def redact_value(self, name: str, value: Any) -> Any:
        """A parameter, tag or variable value with credentials removed.

        Strings under a secret-looking name (:func:`is_secret_name`) are
        replaced whole; other strings go through :meth:`redact`; lists, tuples
        and dicts are redacted item by item (dict keys act as names); numbers,
        booleans and ``None`` are kept.
        """
        if isinstance(value, str):
            if value and is_secret_name(str(name)):
                return REDACTED
            return self.redact(value)
        if isinstance(value, (list, tuple)):
            items = [self.redact_value(name, item) for item in value]
            return type(value)(items) if isinstance(value, tuple) else items
        if isinstance(value, dict):
            return {key: self.redact_value(key if isinstance(key, str) else name, item)
                    for key, item in value.items()}
        return value

    def redact_mapping(self, mapping: Mapping[str, Any]) -> dict[str, Any]:
        """Every value of ``mapping`` through :meth:`redact_value`, keyed by its name."""
        return {key: self.redact_value(key, value) for key, value in mapping.items()}


def _apply(text: str, spans: list[Span]) -> str:
    """Replace non-overlapping spans (the earliest, then longest, wins an overlap)."""
    spans.sort(key=lambda span: (span[0], -span[1]))
    pieces: list[str] = []
    cursor = 0
    for start, end, replacement in spans:
        if start < cursor:
            continue
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def redact_mapping(mapping: Mapping[str, Any], extra_values: Iterable[str] = ()) -> dict[str, Any]:
    """Shortcut for ``Redactor(extra_values).redact_mapping(mapping)``."""
    return Redactor(extra_values).redact_mapping(mapping)


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """Values of environment variables whose name looks secret: redact them everywhere.

    Names with secret, password, token, credential, private or key count when
    the value has at least 6 characters; the weaker auth, session and cookie
    only when the value looks like a credential (8+ characters with a digit,
    mixed case or a symbol), so ``DESKTOP_SESSION=ubuntu`` does not blank out
    every "ubuntu". File paths are never secrets themselves.
    """
    found: list[str] = []
    for name, value in environ.items():
        if name in _NAME_PATTERN_EXEMPT or not SECRET_NAME_PATTERN.search(name):
            continue
        if not isinstance(value, str) or len(value) < _MIN_ENV_SECRET_LENGTH:
            continue
        if value.startswith(("/", "~/")) or value.lower() in _PLAIN_WORDS or value.isdigit() and len(value) < 8:
            continue
        if not _STRONG_ENV_NAME.search(name) and not _credential_shaped(value):
            continue
        found.append(value)
    return found


def _credential_shaped(value: str) -> bool:
    if len(value) < 8:
        return False
    has_digit = any(char.isdigit() for char in value)
    mixed_case = value.lower() != value and value.upper() != value
    symbol = any(not char.isalnum() for char in value)
    return has_digit or mixed_case or symbol


def looks_like_credential(value: str) -> bool:
    """Whether ``value`` contains a well-known token format, key block or auth header."""
    return bool(_rule_spans(value, _lower_same_length(value), _CREDENTIAL_RULES))


def allowed_env_vars(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment variables a run records.

    A variable is kept when it is on :data:`ENV_ALLOW_LIST` or starts with
    ``TRACKBOOK_``, its name does not look secret (:data:`SECRET_NAME_PATTERN`;
    ``JPY_SESSION_NAME`` and ``TOKENIZERS_PARALLELISM`` are exempt), and its
    value holds no recognisable credential. A password in a URL value (a
    ``TRACKBOOK_STORE=postgresql://user:pw@host/db``) is masked, not dropped.
    """
    kept: dict[str, str] = {}
    for name, value in environ.items():
        if name not in ENV_ALLOW_LIST and not name.startswith(ENV_ALLOW_PREFIXES):
            continue
        if name not in _NAME_PATTERN_EXEMPT and SECRET_NAME_PATTERN.search(name):
            continue
        userinfo = _rule_spans(value, value, (_URL_RULE,))
        if userinfo:
            value = _apply(value, userinfo)
        if looks_like_credential(value):
            continue
        kept[name] = value
    return kept
