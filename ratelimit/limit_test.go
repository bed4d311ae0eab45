package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oauthproxy-go/oauthproxy/ratelimit"
)

func TestLimit_Helpers(t *testing.T) {
	assert.Equal(t, ratelimit.Limit{Rate: 5, Per: time.Second}, ratelimit.PerSecond(5))
	assert.Equal(t, ratelimit.Limit{Rate: 5, Per: time.Minute}, ratelimit.PerMinute(5))
	assert.Equal(t, 5, ratelimit.PerMinute(5).BurstSize(), "Burst 0 means Rate")
	assert.Equal(t, 2, ratelimit.Limit{Rate: 5, Per: time.Minute, Burst: 2}.BurstSize())
	assert.True(t, ratelimit.Limit{}.IsZero())
	assert.False(t, ratelimit.PerSecond(1).IsZero())
	assert.Equal(t, "10 per 1m0s (burst 10)", ratelimit.PerMinute(10).String())
}

func TestLimit_Validate(t *testing.T) {
	for _, l := range []ratelimit.Limit{{}, ratelimit.PerSecond(1), {Rate: 3, Per: time.Hour, Burst: 1}} {
		assert.NoError(t, l.Validate(), "%+v", l)
	}
	for _, l := range []ratelimit.Limit{
		{Rate: -1, Per: time.Second},
		{Rate: 1, Per: -time.Second},
		{Rate: 1, Per: time.Second, Burst: -1},
		{Rate: 1},                    // no period
		{Per: time.Second},           // no rate: not "no limit"
		{Burst: 3},                   // a burst alone
		{Per: time.Second, Burst: 1}, // still no rate
	} {
		assert.Error(t, l.Validate(), "%+v", l)
	}
}
