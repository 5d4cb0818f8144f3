# ProdReady: one image for every process (web, worker, beat, migrate); the command picks the role.
#   docker build -t prodready:latest .
#   docker run --env-file .env -p 8000:8000 prodready:latest            # gunicorn
#   docker run --env-file .env prodready:latest celery -A config worker  # Celery worker
FROM python:3.11-slim

# gunicorn reads WEB_CONCURRENCY for its number of worker processes; override it per deployment.
# DEBUG=0: the image is the production shape, never development mode, whatever .env leaves out.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    WEB_CONCURRENCY=2 \
    DEBUG=0

# An unprivileged user owns only its home (gunicorn puts its control socket there) and the
# runtime-files folder; the code stays root-owned, so read-only for the app.
RUN groupadd --system --gid 10001 prodready \
    && useradd --system --uid 10001 --gid prodready --home-dir /home/prodready --create-home \
       --shell /usr/sbin/nologin prodready

WORKDIR /app

# Dependencies first, so code changes don't invalidate this layer. Every wheel is pinned by hash.
COPY requirements.lock ./
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install --require-hashes --no-deps -r requirements.lock

COPY . .

# Hashed, compressed static files for whitenoise's manifest storage. The settings insist on a
# SECRET_KEY and ALLOWED_HOSTS when DEBUG is off; these dummies exist for this one command only.
# Runtime files the settings may create while loading go to a scratch folder, not into the image;
# the real runtime folder (PRODREADY_VAR_DIR, default /app/var) belongs to the app user.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost DEBUG=0 PRODREADY_VAR_DIR=/tmp/build-var \
        python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var \
    && chown -R prodready:prodready /app/var

USER prodready

EXPOSE 8000

# /healthz answers 200 only when the database and the broker answer. The Host header must pass
# ALLOWED_HOSTS, so use its first entry ('.example.com' -> 'example.com', '*' -> 'localhost').
# (Worker/beat containers of this image should override or disable this; docker-compose.yml does.)
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.').replace('*', '') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=8)"]

# gthread: WEB_CONCURRENCY worker processes x 4 threads each. Access log to stdout, errors to stderr.
# /dev/shm for the worker heartbeat file avoids stalls on slow overlay filesystems.
CMD ["gunicorn", "config.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", \
     "--threads", "4", \
     "--timeout", "60", \
     "--graceful-timeout", "30", \
     "--keep-alive", "5", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
