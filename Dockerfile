# nightcare service with PostgreSQL configured by environment:
#   docker build -t nightcare .
#   docker run -e DATABASE_URL=postgresql://user:pass@db:5432/nightcare \
#              -e NIGHTCARE_KEYSAFE_KEY=$(nightcare keygen) -e NIGHTCARE_ENVIRONMENT=production -p 8000:8000 nightcare
# The pages' browser libraries (Leaflet) from the npm registry, as web/package-lock.json pins them.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    NIGHTCARE_ENVIRONMENT=production

WORKDIR /app
COPY pyproject.toml README.md ./
COPY dispatch ./dispatch
COPY routing ./routing
COPY protocols ./protocols
COPY adapters ./adapters
COPY web ./web
COPY --from=web /web/node_modules ./web/node_modules
RUN pip install --no-cache-dir . \
 && useradd --system --uid 10001 nightcare
USER nightcare

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# Migrations are idempotent; run them, then serve.
CMD ["sh", "-c", "nightcare db upgrade && exec nightcare serve --host 0.0.0.0 --port 8000 --workers ${NIGHTCARE_WORKERS:-2}"]
