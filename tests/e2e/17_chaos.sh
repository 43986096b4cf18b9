# The chaos suite (tests/chaos/chaos.sh) at CI sizes: 50k events, kill -9 x5,
# SIGTERM x2, three database restarts, 10 s with every broker down, 900
# poison messages of every kind. `make chaos` runs the long version.
CHAOS_EVENTS=${CHAOS_EVENTS:-50000} CHAOS_KILLS=${CHAOS_KILLS:-5} CHAOS_TERMS=${CHAOS_TERMS:-2} \
CHAOS_POISON=${CHAOS_POISON:-900} CHAOS_BIG=${CHAOS_BIG:-2} CHAOS_PARTITIONS=${CHAOS_PARTITIONS:-24} \
CHAOS_DLQ_PARTITIONS=${CHAOS_DLQ_PARTITIONS:-8} CHAOS_BACKLOG=${CHAOS_BACKLOG:-2500} \
  exec sh tests/chaos/chaos.sh
