# Faultline image: one image, two processes (web, worker) chosen by the command.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
# npm install, not npm ci: the lockfile is written on linux-x64 and lacks other platforms' optional binaries.
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The OTLP .proto files protobufjs loads at runtime (proto/README.md).
COPY proto ./proto
RUN mkdir -p /data/dumps && chown -R node:node /data
USER node
EXPOSE 3000
CMD ["npm", "run", "web"]
