# warroom — runs as a sidecar beside Mattermost.
# tests/test_container.py builds this image's filesystem the same way (install into a
# prefix, run as a non-root user from a read-only copy with /data writable) and starts it.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="warroom" \
      org.opencontainers.image.description="Incident management for any Mattermost server, from a bot account" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.documentation="README.md"
RUN useradd --system --uid 10001 --home-dir /data warroom \
    && mkdir -p /data /etc/warroom \
    && chown warroom /data
COPY --from=build /install /usr/local
# A directory, so that a mounted directory replaces it and edited files are seen on reload
# (a single bind-mounted file keeps pointing at the old file once an editor replaces it).
COPY playbooks.yaml /etc/warroom/playbooks.yaml
ENV WARROOM_DB_PATH=/data/warroom.db \
    WARROOM_PLAYBOOKS_FILE=/etc/warroom/playbooks.yaml \
    WARROOM_LISTEN_HOST=0.0.0.0 \
    WARROOM_LISTEN_PORT=8080 \
    WARROOM_LOG_FORMAT=json
USER 10001
VOLUME ["/data"]
EXPOSE 8080
# Ready means the event stream is up; follows WARROOM_LISTEN_PORT when it is changed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('WARROOM_LISTEN_PORT', '8080'), timeout=4).status == 200 else 1)"]
ENTRYPOINT ["warroom"]
CMD ["run"]
