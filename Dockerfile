# warroom — runs as a sidecar beside Mattermost.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /data warroom && mkdir -p /data && chown warroom /data
COPY --from=build /install /usr/local
COPY playbooks.yaml /etc/warroom/playbooks.yaml
ENV WARROOM_DB_PATH=/data/warroom.db \
    WARROOM_PLAYBOOKS_FILE=/etc/warroom/playbooks.yaml \
    WARROOM_LISTEN_HOST=0.0.0.0 \
    WARROOM_LISTEN_PORT=8080 \
    WARROOM_LOG_FORMAT=json
USER warroom
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz').status == 200 else 1)"
ENTRYPOINT ["warroom"]
CMD ["run"]
