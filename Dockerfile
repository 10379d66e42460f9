# Airflow image with the ChartHop provider installed, used by docker-compose.yaml.
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root pyproject.toml README.md constraints.txt /opt/charthop/
COPY --chown=airflow:root plugins /opt/charthop/plugins
RUN pip install --no-cache-dir -c /opt/charthop/constraints.txt /opt/charthop
