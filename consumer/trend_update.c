#include "trend_update.h"

#include <stdio.h>

#include "trend.h"

int trend_update(store_t *s, long window_s, size_t *n_trends, size_t *n_clusters, char *err,
                 size_t errlen)
{
    char e[512];
    store_trend_input_t *in = NULL;
    if (store_trend_input_load(s, window_s, &in, e, sizeof(e)) != STORE_OK) {
        snprintf(err, errlen, "trend inputs unavailable: %s", e);
        return -1;
    }
    int64_t latest;
    const trend_cluster_t *cl = store_trend_input_clusters(in, n_clusters, &latest);
    trend_config_t tc;
    trend_config_default(&tc);
    tc.window_us = (int64_t)window_s * 1000000;
    trend_list_t *list = NULL;
    int rc = -1;
    if (trends_compute(&tc, cl, *n_clusters, latest, &list, e, sizeof(e)) != 0)
        snprintf(err, errlen, "trend computation failed: %s", e);
    else if (store_trends_save(s, list, e, sizeof(e)) != STORE_OK)
        snprintf(err, errlen, "storing trends failed: %s", e);
    else {
        *n_trends = list->n;
        rc = 0;
    }
    trend_list_destroy(list);
    store_trend_input_free(in);
    return rc;
}
