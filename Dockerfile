# The Coop service: one process serving GraphQL over HTTP and WebSocket on port 8000.
#
#   docker build -t coop:local .
#   docker run --rm -p 8000:8000 coop:local sh -c 'coop db upgrade && coop seed && exec coop serve --host 0.0.0.0 --port 8000'
#
# Without COOP_DATABASE_URL it keeps an SQLite file in its working folder (/var/lib/coop);
# docker-compose.yml runs two of these on one PostgreSQL behind a proxy.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The sources stay in /usr/src/coop (root's, read-only to the service).
WORKDIR /usr/src/coop

# The pinned dependencies first, read from pyproject.toml, so that a change to the code
# does not reinstall them. Every one of them ships wheels for this image: no compiler needed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install -r requirements.txt

# Then the project itself (the packages, their migrations and the seed history).
COPY README.md ./
COPY events ./events
COPY domain ./domain
COPY projections ./projections
COPY service ./service
COPY schema ./schema
RUN pip install . \
    && coop --help > /dev/null

# Run as an unprivileged user; its home is the working folder, where the default SQLite
# database (sqlite:///coop.db) would be written.
RUN useradd --user-group --uid 10001 --create-home --home-dir /var/lib/coop \
    --shell /usr/sbin/nologin coop
USER coop
WORKDIR /var/lib/coop

EXPOSE 8000

# /healthz: the process is alive. (docker-compose.yml checks /readyz on the instances.)
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# The exec form: coop is PID 1 and gets SIGTERM, so uvicorn shuts down cleanly and every
# open subscription is sent `complete` before the connections close.
CMD ["coop", "serve", "--host", "0.0.0.0", "--port", "8000"]
