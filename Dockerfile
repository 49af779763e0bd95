# syntax=docker/dockerfile:1
# One image for the API (default command) and the worker (`python -m worker`).
# Production only: the `dev` extra (embedded Postgres, Temporal dev server, test tools) is not installed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first (from pyproject.toml only), so code changes do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The packages and module pyproject.toml installs, then the files they read at run time:
# settings default POLICIES_DIR to /app/policies and migrations are read from /app/migrations.
COPY core/ core/
COPY domain/ domain/
COPY store/ store/
COPY activities/ activities/
COPY workflows/ workflows/
COPY api/ api/
COPY cli/ cli/
COPY notifications/ notifications/
COPY reporting/ reporting/
COPY web/ web/
COPY devstack/ devstack/
COPY worker.py ./
COPY policies/ policies/
COPY migrations/ migrations/
RUN pip install -e .

# The code stays owned by root: the service user can read it but not change it.
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
CMD ["uvicorn", "--factory", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-proxy-headers"]
