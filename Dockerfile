# EnerTrack web app (and, with another command, the ingest daemon).
#   docker build -t enertrack .
#   docker run -p 8006:8006 -e FLASK_SECRET_KEY=... -v enertrack-data:/data enertrack
#   docker run -v enertrack-data:/data -e DOMINIO=... enertrack enertrack ingest
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config default-libmysqlclient-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY enertrack ./enertrack
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir --upgrade pip \
 && /venv/bin/pip install --no-cache-dir ".[mysql]"

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app --shell /usr/sbin/nologin enertrack \
 && mkdir -p /data && chown enertrack /data
COPY --from=build /venv /venv
WORKDIR /app
# The app finds pages/, assets/ and migrations/ beside the package, as in a checkout.
COPY --chown=enertrack . /app
RUN /venv/bin/pip install --no-cache-dir --no-deps -e /app
ENV PATH=/venv/bin:$PATH \
    ENERTRACK_DATA_DIR=/data \
    ENERTRACK_PORT=8006 \
    PYTHONUNBUFFERED=1
USER enertrack
EXPOSE 8006
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8006/enertrack/healthz').status == 200 else 1)"
CMD ["sh", "-c", "enertrack db upgrade && exec enertrack serve"]
