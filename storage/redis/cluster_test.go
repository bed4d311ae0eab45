package redis_test

import (
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/redis"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
	"github.com/oauthproxy-go/oauthproxy/storage/storagetest"
)

// TestClusterConformance runs the suite through goredis.ClusterClient against a
// one-node cluster that owns every slot, checking that the store's commands,
// GETDEL and SET … PX included, go through cluster routing.
func TestClusterConformance(t *testing.T) {
	t.Parallel()
	server := redistest.StartWithOptions(t, redistest.Options{
		Args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"},
	})
	admin := redistest.NewClient(t, server.Addr())
	require.NoError(t, admin.Do(t.Context(), "cluster", "addslotsrange", 0, 16383).Err())
	require.Eventually(t, func() bool {
		info, err := admin.ClusterInfo(t.Context()).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	}, 10*time.Second, 20*time.Millisecond, "the one-node cluster did not come up")

	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 []string{server.Addr()},
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = client.Close() })
	storagetest.Run(t, func(t *testing.T) storage.TokenStorage {
		return redis.New(client, redis.WithPrefix(t.Name()+":"), redis.WithEveryNamespaceCounted())
	})
}
