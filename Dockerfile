# syntax=docker/dockerfile:1
# Two stages: the build stage compiles TypeScript; the runtime stage carries only production
# dependencies and the compiled output, runs as a non-root user, and has no shell tools it
# does not need.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` npm package is how developers on older machines get Node 24; the image already has
# it, so its install script is skipped here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# The console's page: plain HTML/CSS/ES modules, served as they are (dist/console finds them here).
COPY src/console/web ./src/console/web
USER 65532:65532
EXPOSE 2775 4000 8087
# V8 sizes its young generation from the machine's memory: on a large node it grew to 128 MiB
# under the garbage of 1,000 binds' polls (about 110 KiB of RSS per bind). 8 MiB semi-spaces keep
# it at 16 MiB: 55-58 KiB per bind at 1,000 idle binds, for about 10% more CPU (test/bench/README.md).
# test/bench/lib/operator-procs.ts runs the benchmark's pods with these same flags.
ENTRYPOINT ["node", "--max-semi-space-size=8", "/app/dist/cli.js"]
CMD ["run"]
