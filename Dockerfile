# syntax=docker/dockerfile:1
# The web image: gunicorn serving the site, static files collected and compressed at build time.
# Build: docker build -t omsportal .   Run: see docker-compose.yml and the README («Operations»).

# --- build: the dependencies in a virtualenv. Every dependency ships wheels for this base,
# so no compiler is needed; should one ever be, it is installed here and never reaches the
# final image.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only the lock: the dependency layer is rebuilt when dependencies change, not code. Exactly
# the versions and hashes of uv.lock (requirements.txt is exported from it by `make lock`).
COPY requirements.txt ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements.txt

# --- web: the runtime, without pip caches or build tools, run as an unprivileged user.
FROM python:3.11-slim-bookworm AS web
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000
RUN groupadd --system --gid 10001 omsportal \
    && useradd --system --uid 10001 --gid omsportal --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin omsportal
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code belongs to root: the process that serves it cannot change it.
COPY . .
# collectstatic needs settings to load; these values exist for this one command and are not
# kept in the image. The real SECRET_KEY and ALLOWED_HOSTS come from the environment at run
# time. Uploads (MEDIA_ROOT) are the one place the process keeps what it writes: mount a volume
# there (/tmp, the base image's, takes temporary files: README, «The image»).
RUN SECRET_KEY=collectstatic-at-build-time-only ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p var/media \
    && chown omsportal:omsportal var/media
# Numeric, so that Kubernetes-style runAsNonRoot checks can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8000
# Migrations are not run here: `python manage.py migrate` is a one-shot command of its own.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "scripts/healthcheck.py"]
CMD ["scripts/start-web"]
