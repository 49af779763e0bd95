# syntax=docker/dockerfile:1
# One image for the API (default command), the worker (`python -m worker`) and `complaints doctor`.
# Production only: the `dev` extra (embedded Postgres, Temporal dev server, test tools) is not installed,
# nor devstack/. The service runs from the installed wheel, which carries every file it reads at run time
# (migrations, policies, templates, static files); no source tree is on its path.

# Stage 1: the project's wheel, built from exactly the files pyproject.toml installs.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
COPY core/ core/
COPY domain/ domain/
COPY store/ store/
COPY activities/ activities/
COPY workflows/ workflows/
COPY api/ api/
COPY cli/ cli/
COPY notifications/ notifications/
COPY reporting/ reporting/
COPY inbound/ inbound/
COPY web/ web/
COPY worker.py ./
COPY policies/ policies/
COPY migrations/ migrations/
RUN pip wheel --no-deps --wheel-dir /wheels .

# Stage 2: the service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app

# Dependencies first (the main ones of pyproject.toml only), so code changes do not reinstall them.
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt /tmp/pyproject.toml

# Then the project, from its wheel (tests/test_production_install.py installs it the same way).
COPY --from=build /wheels /tmp/wheels
RUN pip install /tmp/wheels/*.whl && rm -rf /tmp/wheels

# An empty working folder: the code is the installed package, owned by root (readable, not writable).
WORKDIR /srv
USER app

ENV ENVIRONMENT=production
# Behind a reverse proxy set FORWARDED_ALLOW_IPS to its address(es): only then are the client's address and
# scheme taken from X-Forwarded-For/-Proto (the resident limits count per address). Empty: the socket's.
# TLS ends at that proxy, so the resident session cookie is marked Secure by setting, not by scheme.
ENV FORWARDED_ALLOW_IPS="" \
    COOKIE_SECURE=true
EXPOSE 8000

# Liveness only (the process answers); compose uses /readyz for readiness. The worker disables this.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# --no-proxy-headers: the app applies FORWARDED_ALLOW_IPS itself (api/client_address.py), once.
# --timeout-keep-alive 75: an idle connection is kept longer than the council's proxy or load balancer keeps
# its own (60 s is common): with uvicorn's 5 s the proxy can send a request on a connection the API is
# closing at that moment, and the resident gets a 502 (the bench's client hit the same race: httpx.ReadError).
CMD ["uvicorn", "--factory", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-proxy-headers", \
     "--timeout-keep-alive", "75"]
