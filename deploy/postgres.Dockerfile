# A PostgreSQL 15 image built from Debian's packages, for machines that
# cannot pull the official image (the compose smoke test builds it on a
# local Debian base). It honours the official image's POSTGRES_USER,
# POSTGRES_PASSWORD and POSTGRES_DB, keeps its data in
# /var/lib/postgresql/data and ships pg_isready, so compose.yaml works with
# either image.
ARG BASE_IMAGE=debian:12
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY deploy/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
ENTRYPOINT ["postgres-entrypoint.sh"]
CMD ["postgres"]
