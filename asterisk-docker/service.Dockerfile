# The hotline call controller (Python). Build from the repository root:
#   docker build -f asterisk-docker/service.Dockerfile -t hotline-service .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOTLINE_MIGRATIONS=/app

# Offline speech: espeak-ng speaks (Mandarin from numbered pinyin), sox resamples to 8 kHz.
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng sox \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml alembic.ini ./
COPY src ./src
COPY migrations ./migrations
RUN pip install . \
 && useradd --system --home-dir /var/lib/hotline --create-home hotline

USER hotline
# Needs HOTLINE_DATABASE_URL, HOTLINE_ARI_URL, HOTLINE_ARI_USER, HOTLINE_ARI_PASSWORD.
CMD ["hotline", "serve"]
