"""The hems fleet box's InfluxDB replication sidecar.

On start (balena restarts the service whenever its variables change) it
creates or updates the local InfluxDB's remote connection to InfluxDB Cloud
and the replication stream of the local bucket, then watches the stream's
health and reports it to Home Assistant over MQTT discovery, so a feed that
stopped replicating shows up as a problem entity.
"""

__version__ = "0.1.0"
