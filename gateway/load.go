package gateway

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxConfigSize caps the configuration file read.
const maxConfigSize = 1 << 20

// EnvPrefix starts every environment variable the gateway reads.
const EnvPrefix = "OAUTHPROXY_"

// LoadConfig reads the YAML file at path strictly (an unknown key is an
// error, so a typo cannot silently leave a default), then applies the
// environment: every scalar key has a variable, OAUTHPROXY_ and its path in
// upper case joined by _ (backend.url is OAUTHPROXY_BACKEND_URL; lists are
// comma-separated), which wins over the file, and the Secrets are read. env
// looks a variable up; nil means os.LookupEnv. Every problem found is
// reported, joined.
func LoadConfig(path string, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gateway: config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("gateway: config: %w", err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("gateway: config %s is larger than %d bytes", path, maxConfigSize)
	}
	return ParseConfig(data, env)
}

// ParseConfig is LoadConfig on the file's content.
func ParseConfig(data []byte, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("gateway: config: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("gateway: config: the file holds more than one YAML document")
	}
	var errs []error
	overlayEnv(reflect.ValueOf(&c).Elem(), strings.TrimSuffix(EnvPrefix, "_"), env, &errs)
	secrets, err := loadSecrets(env)
	errs = append(errs, err)
	c.Secrets = secrets
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("gateway: config: %w", err)
	}
	return &c, nil
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// overlayEnv sets each scalar field of the struct v from the variable named
// after its YAML path, when that is set. Maps have no environment form.
func overlayEnv(v reflect.Value, prefix string, env func(string) (string, bool), errs *[]error) {
	t := v.Type()
	for i := range t.NumField() {
		field, tag := t.Field(i), strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if fv.Addr().Type().Implements(textUnmarshalerType) {
			if raw, ok := env(name); ok {
				if err := fv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(raw)); err != nil {
					*errs = append(*errs, fmt.Errorf("%s: %w", name, err))
				}
			}
			continue
		}
		if field.Type.Kind() == reflect.Struct {
			overlayEnv(fv, name, env, errs)
			continue
		}
		raw, ok := env(name)
		if !ok {
			continue
		}
		if err := setScalar(fv, raw); err != nil {
			*errs = append(*errs, fmt.Errorf("%s: %w", name, err))
		}
	}
}

// setScalar parses raw into the field v.
func setScalar(v reflect.Value, raw string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return err
		}
		v.SetInt(n)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var list []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("has no environment form (%s); set it in the file", v.Type())
	}
	return nil
}
