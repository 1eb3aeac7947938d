package proof

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/spackmon/spackmon/pkg/fixtures"
	"testing"
)

// replaySession sends the requests the real Spack client sent in a captured session to the
// server at base, authenticating as Spack does (a 401 challenge, a realm token fetched from
// the realm it names with user and token), with the build ids the server gave, and expects
// the status the capture's stub answered each with.
func replaySession(t *testing.T, base, user, token, capture string, reach func(string) string) error {
	ids := map[string]string{} // the stub's build id -> ours
	bearer := ""
	sc := bufio.NewScanner(bytes.NewReader(fixtures.Read(t, "spack-client", capture)))
	sc.Buffer(nil, 16<<20)
	var req map[string]any
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return err
		}
		if _, ok := line["method"]; ok {
			req = line
			continue
		}
		method, path := req["method"].(string), req["path"].(string)
		if path == "/auth/token/" {
			continue // fetched below, when the server challenges
		}
		want := int(line["resp"].(float64))
		body, _ := req["body"].(string)
		for stub, ours := range ids {
			body = regexp.MustCompile(`"build_id": ?`+stub+`\b`).ReplaceAllString(body, `"build_id": `+ours)
		}
		status, answer, challenge, err := send(method, base+path, body, bearer)
		if err != nil {
			return err
		}
		if status == http.StatusUnauthorized && challenge != "" {
			// Spack fetches a token and sends the request again, as the capture shows next.
			if bearer, err = realmToken(challenge, user, token, reach); err != nil {
				return err
			}
			if want != http.StatusUnauthorized {
				if status, answer, _, err = send(method, base+path, body, bearer); err != nil {
					return err
				}
			}
		}
		if status != want {
			return fmt.Errorf("%s %s: %d %s, the stub answered %d", method, path, status, answer, want)
		}
		if path == "/ms1/builds/new/" {
			stub := line["resp_body"].(map[string]any)["data"].(map[string]any)["build"].(map[string]any)["build_id"]
			var got struct {
				Data struct {
					Build struct {
						BuildID json.Number `json:"build_id"`
					} `json:"build"`
				} `json:"data"`
			}
			if err := json.Unmarshal(answer, &got); err != nil {
				return err
			}
			ids[fmt.Sprint(stub)] = got.Data.Build.BuildID.String()
		}
	}
	return sc.Err()
}

func send(method, url, body, bearer string) (int, []byte, string, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, "", err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, b, res.Header.Get("Www-Authenticate"), err
}

var challengeParam = regexp.MustCompile(`(realm|service)="([^"]*)"`)

// realmToken fetches a token from the realm a challenge names, as Spack does.
func realmToken(challenge, user, token string, reach func(string) string) (string, error) {
	params := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(challenge, -1) {
		params[m[1]] = m[2]
	}
	req, err := http.NewRequest(http.MethodGet, reach(params["realm"]), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+token)))
	req.Header.Set("Service", params["service"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var got struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || got.Token == "" {
		return "", fmt.Errorf("realm %s: %s: %v", params["realm"], res.Status, err)
	}
	return got.Token, nil
}
