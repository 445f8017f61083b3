# Kiroshi's function bundle: the local runner serves the HTTP functions (--only http) or the
# WebSocket chat session (--only websocket); docker-compose.yml runs both behind Nginx.
FROM python:3.11-slim

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY main.py ./
COPY functions ./functions
COPY lib ./lib
COPY local_runner ./local_runner
COPY console ./console

ENV KIROSHI_HOST=0.0.0.0 \
    KIROSHI_PORT=8080 \
    KIROSHI_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
RUN useradd --create-home kiroshi && mkdir -p /data && chown kiroshi /data
USER kiroshi
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"KIROSHI_PORT\"]}/healthy', timeout=2)"
CMD ["python", "-m", "local_runner", "serve"]
