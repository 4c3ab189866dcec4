# One image for every rasd process; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY rasd ./rasd
RUN pip install --no-cache-dir . \
 && pip install --no-cache-dir --no-deps "camel-tools==1.6.0"
COPY rules ./rules
COPY feeds.yaml receivers.yaml ./
ENV RASD_STATE_DIR=/data
ENTRYPOINT ["rasd"]
CMD ["--help"]
