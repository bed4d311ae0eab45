package oauthproxy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Edges of the consent code that mutation testing found unpinned
// (docs/mutation.md). Named TestConsent… so scripts/mutate.sh's selection for
// the consent group runs them.

// TestConsent_RememberPeriodInWords: the period the consent page promises is
// the one ConsentRememberTTL sets, in the largest whole unit, singular for
// one; nothing (no box) for none.
func TestConsent_RememberPeriodInWords(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, ""},
		{0, ""},
		{time.Minute, "1 minute"},
		{2 * time.Minute, "2 minutes"},
		{90 * time.Second, "1 minute"}, // whole minutes only
		{59 * time.Minute, "59 minutes"},
		{time.Hour, "1 hour"},
		{61 * time.Minute, "61 minutes"},
		{2 * time.Hour, "2 hours"},
		{23 * time.Hour, "23 hours"},
		{24*time.Hour - time.Minute, "1439 minutes"},
		{24 * time.Hour, "1 day"},
		{25 * time.Hour, "25 hours"},
		{36 * time.Hour, "36 hours"},
		{48 * time.Hour, "2 days"},
		{30 * 24 * time.Hour, "30 days"},
		{72*time.Hour + 30*time.Minute, "4350 minutes"},
	} {
		assert.Equal(t, tc.want, durationInWords(tc.d), "%v", tc.d)
	}
}
