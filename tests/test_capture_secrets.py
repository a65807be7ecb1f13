"""Credentials never reach the store; ordinary code and output pass through unchanged."""

from __future__ import annotations

import pytest

from trackbook.capture.secrets import (
    ENV_ALLOW_LIST,
    REDACTED,
    SECRET_NAME_PATTERN,
    Redactor,
    allowed_env_vars,
    is_secret_name,
    looks_like_credential,
    redact_mapping,
    secret_values,
)

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
ENVIRON = {
    "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
    "GITHUB_TOKEN": GITHUB_TOKEN,
    "DESKTOP_SESSION": "ubuntu",
    "SSH_AUTH_SOCK": "/tmp/ssh-abc/agent.12",
    "HOME": "/home/analyst",
    "OMP_NUM_THREADS": "4",
}


def test_planted_secrets_never_appear_in_redacted_text() -> None:
    redactor = Redactor(secret_values(ENVIRON))
    code = (
        "import os\n"
        "url = 'postgresql://analyst:hunter2pass@db.internal:5432/sales'\n"
        "api_token = 'tok_live_9f8e7d6c5b4a39281706'\n"
        f"print(os.environ['AWS_SECRET_ACCESS_KEY'])  # {AWS_SECRET}\n"
        f"headers = {{'Authorization': 'token {GITHUB_TOKEN}'}}\n"
    )
    output = f"connecting to postgresql://analyst:hunter2pass@db.internal/sales as {AWS_SECRET} {GITHUB_TOKEN}\n"
    for text in (code, output):
        redacted = redactor.redact(text)
        for secret in (AWS_SECRET, GITHUB_TOKEN, "hunter2pass", "tok_live_9f8e7d6c5b4a39281706"):
            assert secret not in redacted
        assert REDACTED in redacted
    assert "postgresql://analyst:***@db.internal" in redactor.redact(output)


def test_ordinary_code_is_left_exactly_as_it_was() -> None:
    code = (
        "n_estimators = 200\nkey = 'species'\nkeys = ['a', 'b']\nsort_key = 'date'\n"
        "primary_key = 'id'\ns3_key = 'data/train.csv'\ntokenizer = 'bert-base-uncased'\n"
        "pad_token = '[PAD]'\nmax_tokens = 100\ntoken_count = '12'\nauthor = 'Jane Doe'\n"
        "session = 'morning'\nsorted(rows, key=lambda r: r['score'])\nfor key, value in d.items(): pass\n"
        "df = pd.read_csv('https://example.com/data.csv')\nmonkey = 'banana'\n"
        "def f(token: str, password: Optional[str] = None) -> None: ...\n"
        "api_key = os.environ['API_KEY']\ntoken = get_token()\nsecret = vault.read(path)\n"
        "task = 'sk-learn-is-a-library-name'\nemail = 'ann@example.com'\n"
    )
    assert Redactor().redact(code) is code
    log = "epoch 1 loss=0.123 acc=0.91\nsaved to /tmp/model.pkl\n" * 100
    assert Redactor().redact(log) is log


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("api_key = 'abc123def456'", "abc123def456"),
        ('api_key="abc123def456"', "abc123def456"),
        ('client(token="tok_9f8e7d6c5b")', "tok_9f8e7d6c5b"),
        ('config = {"password": "hunter2"}', "hunter2"),
        ("os.environ['OPENAI_API_KEY'] = 'anything-at-all'", "anything-at-all"),
        ("DB_PASSWORD: str = 'pa55word'", "pa55word"),
        ("AWS_SECRET_ACCESS_KEY=abc/def+ghi123", "abc/def+ghi123"),
        ("export GITHUB_TOKEN=plainvalue", "plainvalue"),
        ("PASSWORD=hunter", "hunter"),
        ("--password=hunter", "hunter"),
        ("password: hunter2", "hunter2"),
        ('connect("host=db user=admin password=hunter2 dbname=x")', "hunter2"),
        ("if token == 's3cr3t': pass", "s3cr3t"),
        ("X-Api-Key: 0a1b2c3d4e5f", "0a1b2c3d4e5f"),
        ("AKIAIOSFODNN7EXAMPLE in logs", "AKIAIOSFODNN7EXAMPLE"),
        ("key is xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
        ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
        ("client = OpenAI(sk-proj-abcDEF1234567890xyzXYZ)", "sk-proj-abcDEF1234567890xyzXYZ"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N", "dozjgNryP4J3jVmNHl0w5N"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
        ("authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("git clone https://oauth2tokenvalue1234567890@gitlab.com/x.git", "oauth2tokenvalue1234567890"),
        ("redis://:s3cret@cache:6379/0", "s3cret"),
    ],
)
def test_each_credential_form_is_redacted(text: str, secret: str) -> None:
    redacted = Redactor().redact(text)
    assert secret not in redacted, redacted
    assert "***" in redacted


def test_private_key_blocks_are_removed_whole() -> None:
    block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAAC2\n-----END OPENSSH PRIVATE KEY-----"
    redacted = Redactor().redact(f"key file:\n{block}\ndone")
    assert redacted == f"key file:\n{REDACTED}\ndone"
    truncated = Redactor().redact("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA")
    assert "MIIE" not in truncated


def test_redaction_is_idempotent() -> None:
    redactor = Redactor([AWS_SECRET])
    text = f"url = 'mysql://u:pw@h/db'\napi_key = '{AWS_SECRET}'\nAuthorization: Bearer abcdefghijklmnop"
    once = redactor.redact(text)
    assert redactor.redact(once) == once


def test_known_secret_values_are_redacted_wherever_they_appear() -> None:
    redactor = Redactor(["correct-horse-battery", "abc"])  # too short to redact safely: ignored
    assert redactor.redact("x = 'correct-horse-battery!'") == f"x = '{REDACTED}!'"
    assert redactor.redact("abc") == "abc"


def test_secret_names_in_code_and_params() -> None:
    for name in ("api_key", "apiKey", "API_KEY", "GITHUB_TOKEN", "githubToken", "db_password", "passwd",
                 "X-Api-Key", "aws_secret_access_key", "client_secret", "auth", "oauth_token",
                 "session_id", "cookie", "credentials", "private_key", "hf_token", "access_token"):
        assert is_secret_name(name), name
    for name in ("key", "keys", "sort_key", "primary_key", "s3_key", "tokenizer", "pad_token",
                 "max_tokens", "token_count", "author", "session", "monkey", "keyboard", "n_estimators",
                 "private", "key_column"):
        assert not is_secret_name(name), name


def test_redact_value_for_params_and_tags() -> None:
    redactor = Redactor()
    assert redactor.redact_value("api_key", "abc") == REDACTED
    assert redactor.redact_value("token_limit", 4096) == 4096  # numbers are kept
    assert redactor.redact_value("db", "postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redactor.redact_value("lr", 0.1) == 0.1 and redactor.redact_value("name", "forest") == "forest"
    assert redactor.redact_value("opts", {"password": "x", "depth": 3}) == {"password": REDACTED, "depth": 3}
    assert redactor.redact_value("secrets", ("a", "b")) == (REDACTED, REDACTED)
    assert redact_mapping({"token": "t0k3n", "key": "species"}) == {"token": REDACTED, "key": "species"}


def test_only_allow_listed_environment_variables_without_secrets_are_recorded() -> None:
    environ = {
        **ENVIRON,
        "PYTHONHASHSEED": "0",
        "CUDA_VISIBLE_DEVICES": "0,1",
        "JPY_SESSION_NAME": "/home/analyst/notebooks/train.ipynb",
        "TOKENIZERS_PARALLELISM": "false",
        "TRACKBOOK_STORE": "postgresql://team:s3cretpw@db:5432/trackbook",
        "TRACKBOOK_SPOOL_DIR": "/tmp/spool",
        "TRACKBOOK_API_TOKEN": "abcdef123456",
        "LANG": GITHUB_TOKEN,  # an allow-listed name holding a credential is dropped
        "PATH": "/usr/bin",
    }
    assert allowed_env_vars(environ) == {
        "OMP_NUM_THREADS": "4",
        "PYTHONHASHSEED": "0",
        "CUDA_VISIBLE_DEVICES": "0,1",
        "JPY_SESSION_NAME": "/home/analyst/notebooks/train.ipynb",
        "TOKENIZERS_PARALLELISM": "false",
        "TRACKBOOK_STORE": "postgresql://team:***@db:5432/trackbook",
        "TRACKBOOK_SPOOL_DIR": "/tmp/spool",
    }
    assert {"PYTHONHASHSEED", "CUDA_VISIBLE_DEVICES", "LANG", "TZ", "VIRTUAL_ENV"} <= ENV_ALLOW_LIST


def test_secret_values_come_from_secret_named_variables_only() -> None:
    values = secret_values({**ENVIRON, "SHORT_TOKEN": "abc", "XAUTHORITY": "/run/user/1000/xauth",
                            "APP_SESSION_COOKIE": "Zx81-aa9Q"})
    assert sorted(values) == sorted([AWS_SECRET, GITHUB_TOKEN, "Zx81-aa9Q"])
    assert SECRET_NAME_PATTERN.search("my_passwd") and not SECRET_NAME_PATTERN.search("OMP_NUM_THREADS")


def test_looks_like_credential() -> None:
    assert looks_like_credential(GITHUB_TOKEN) and looks_like_credential("AKIAIOSFODNN7EXAMPLE")
    assert not looks_like_credential("en_US.UTF-8") and not looks_like_credential("/usr/local/bin")
