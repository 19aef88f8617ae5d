# EnerTrack: one image for the web app (default command), the ingest daemon and the CLI.
#   docker build -t enertrack .
#   docker run -p 8006:8006 --env-file .env -v enertrack-data:/data enertrack          web app only
#   docker run --env-file .env -v enertrack-data:/data enertrack enertrack ingest      the daemon (stores readings)
#   docker run --rm --env-file .env -v enertrack-data:/data enertrack enertrack user create ...
# or all of it, with MariaDB, InfluxDB, Redis and Mosquitto: docker compose up -d (docs/deployment.md).
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config default-libmysqlclient-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Only the dependencies here (an empty package stands in for EnerTrack's code), so that this slow
# layer, which compiles mysqlclient, is rebuilt when pyproject.toml changes and not at every edit.
COPY pyproject.toml ./
RUN mkdir enertrack && touch README.md enertrack/__init__.py \
 && python -m venv /venv && /venv/bin/pip install --no-cache-dir --upgrade pip \
 && /venv/bin/pip install --no-cache-dir ".[mysql,redis]"

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin enertrack \
 && install -d -o enertrack -g enertrack -m 0750 /data
COPY --from=build /venv /venv
# The app finds pages/, assets/ and migrations/ beside the package, as in a checkout. The code
# belongs to root: the app's user can write only /data (and /tmp).
COPY . /app
RUN /venv/bin/pip install --no-cache-dir --no-deps -e /app \
 && /venv/bin/python -m compileall -q /app/enertrack /app/pages /app/migrations /app/wsgi.py /app/ingest.py
ENV PATH=/venv/bin:$PATH \
    ENERTRACK_DATA_DIR=/data \
    ENERTRACK_PORT=8006 \
    ENERTRACK_WEB_WORKERS=1 \
    ENERTRACK_WEB_THREADS=8 \
    PYTHONUNBUFFERED=1
# Working directory "/": a relative ENERTRACK_DATA_DIR (data, as in an .env copied from an older
# .env.example and passed with --env-file) then also means /data, the volume, never a directory
# inside the container that is lost with it.
WORKDIR /
VOLUME /data
USER enertrack
EXPOSE 8006
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/enertrack/healthz' % os.environ.get('ENERTRACK_PORT', '8006'); sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"
CMD ["sh", "-c", "enertrack db upgrade && exec enertrack serve"]
