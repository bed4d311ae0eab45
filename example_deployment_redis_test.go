package oauthproxy_test

import (
	"context"
	"log"
	"os"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage/redis"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDocSnippets_DeploymentRedis runs docs/deployment.md's "Many
// replicas" block against a real redis-server (an example could not start
// one): the proxy keeps its records under the configured prefix, sealed,
// and reads them back.
func TestDocSnippets_DeploymentRedis(t *testing.T) {
	for name, value := range deploymentEnvironment() {
		t.Setenv(name, value)
	}
	t.Setenv("REDIS_ADDR", redistest.Start(t))
	t.Setenv("REDIS_PASSWORD", "")
	cfg := deploymentConfig()

	client := goredis.NewClient(&goredis.Options{
		Addr:                  os.Getenv("REDIS_ADDR"), // e.g. "redis:6379"
		Password:              os.Getenv("REDIS_PASSWORD"),
		ContextTimeoutEnabled: true, // context deadlines bound socket reads/writes, not only the pool wait
	})
	defer client.Close() // the store never closes the client

	cfg.TokenStorage = redis.New(client, redis.WithPrefix("mcp-proxy:")) // default prefix "oauthproxy:"
	p, err := oauthproxy.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Destroy()

	registered := registerExampleClient(p)
	ctx := context.Background()
	keys, err := client.Keys(ctx, "*").Result()
	require.NoError(t, err)
	require.NotEmpty(t, keys)
	values := 0
	for _, key := range keys {
		assert.True(t, strings.HasPrefix(key, "mcp-proxy:"), "key %q is outside the prefix", key)
		if kind, err := client.Type(ctx, key).Result(); err == nil && kind == "string" {
			value, err := client.Get(ctx, key).Result()
			require.NoError(t, err)
			assert.NotContains(t, value, "Example client", "values are sealed")
			values++
		}
	}
	assert.Positive(t, values, "the client's record is a string value")
	assert.Equal(t, "client known", authorizeOutcome(p, registered))
}
