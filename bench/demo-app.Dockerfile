# The Dockerfile equivalent of the demo app's build (bench/demo.mjs; scripts/demo.sh builds the same app
# with kiln and the default Debian builder): what the python-runtime extension (python3 from Debian) and
# the curl-tool extension (curl) add to the run image, one RUN step each as the extensions do, and what
# the python-app buildpack makes (the app byte-compiled in /workspace, its launch env, the web process).
ARG run_image=kiln/debian-run:bookworm
FROM ${run_image}
USER root
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 >/dev/null && rm -rf /var/lib/apt/lists/* && python3 --version
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends curl >/dev/null && rm -rf /var/lib/apt/lists/* && curl --version | head -n 1
ENV PORT=8080 GREETING="Built by the python-app buildpack." PYTHONUNBUFFERED=1
COPY --chown=1000:1000 . /workspace
WORKDIR /workspace
USER 1000:1000
RUN python3 -m compileall -q .
CMD ["python3", "app.py"]
