# leavebot in a container: `leavebot serve` on $PORT (3000) as a non-root user, checked on /healthz.
# Migrations are a release step, run once per deploy before the new instances start:
#   docker run --rm --env-file .env leavebot leavebot db upgrade
# (compose.yaml runs it as the `migrate` service.) `serve` also migrates at start, under a lock.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY providers ./providers
RUN pip install . && useradd --system --uid 10001 --home-dir /data --create-home leavebot

USER leavebot
WORKDIR /data
# SQLite by default lives here (mount a volume); set DATABASE_URL to PostgreSQL for several instances.
ENV DATABASE_URL=sqlite:////data/leavebot.db
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/healthz\", timeout=4)"]
CMD ["leavebot", "serve"]
