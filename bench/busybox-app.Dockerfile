# The Dockerfile equivalent of the bench's busybox app build (bench/vs-docker.mjs): what the shell-app
# buildpack (a launch layer with a `greet` tool, the run.sh process) and the run-label run extension
# (a label and /etc/kiln-message.txt) make, on the same run image, with the app copied to /workspace.
ARG run_image=kiln-bench/busybox-run:latest
FROM ${run_image}
USER root
RUN mkdir -p /layers/tools/bin && printf '#!/bin/sh\necho "hello from ${GREETING:-kiln}"\n' > /layers/tools/bin/greet && chmod 755 /layers/tools/bin/greet
COPY kiln-extend.txt /etc/kiln-message.txt
LABEL io.kiln.example.extended="true"
ENV GREETING=kiln PATH=/layers/tools/bin:$PATH
COPY --chown=1000:1000 . /workspace
WORKDIR /workspace
USER 1000:1000
CMD ["sh", "/workspace/run.sh"]
