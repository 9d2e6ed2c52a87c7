package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"enroll/api/hostile"
)

// Scenarios where the accept call is answered 200 with something that
// cannot be stored as issued, or names another client.

// answer200 answers accept 200 with body exactly as given.
func answer200(body string) func(self, other string) hostile.Routes {
	return one(routeAccept, hostile.Respond(200, http.Header{"Content-Type": {"application/json"}}, body))
}

// answerWith is the well-formed new-device answer with one field's JSON
// value replaced.
func answerWith(field, value string) string {
	f := map[string]string{"id": `"dev-hostile-1"`, "clientId": jsonString(hsClientID), "clientSecret": jsonString(hsIssued), "name": `"lab"`}
	f[field] = value
	return fmt.Sprintf(`{"id":%s,"clientId":%s,"clientSecret":%s,"name":%s}`, f["id"], f["clientId"], f["clientSecret"], f["name"])
}

// enrolledAnswer is an answer to the enrolled device with fields set.
func enrolledAnswer(fields string) string {
	return `{"id":"dev-hostile-0","clientId":` + jsonString(hsClientID) + `,"name":"lab",` + fields + `}`
}

// shortOutput checks that nothing of a huge field reached the output.
func shortOutput(t *testing.T, o hostileRun) {
	if n := len(o.all()); n > 8<<10 {
		t.Errorf("%d bytes of output", n)
	}
}

func hostileAnswerCases() []hostileCase {
	unstorable := func(name, body, says string, json bool) hostileCase {
		return hostileCase{name: name, class: hsUnstorable, cmd: "accept", json: json, routes: answer200(body), exit: 7,
			says: []string{says, `unreadable-`}, check: func(t *testing.T, o hostileRun) {
				setAside([]byte(body))(t, o)
				shortOutput(t, o)
			}}
	}
	another := func(name, fields string) hostileCase {
		body := enrolledAnswer(fields)
		return hostileCase{name: name, class: hsAnother, cmd: "accept", enrolled: true, routes: answer200(body), exit: 7,
			says: []string{`names another client than this device`}, file: fileIntact, check: setAside([]byte(body))}
	}
	hostileName := "Lab \x1b[2J\u009b31m\u202etxt.exe\u0007"
	return []hostileCase{
		unstorable("accept: a clientSecret of invalid UTF-8", answerWith("clientSecret", "\"issued\xff\xfeS3cret\""),
			`the answer's clientSecret is not valid UTF-8`, false),
		unstorable("accept: a clientSecret with a lone surrogate", answerWith("clientSecret", `"issued\ud800S3cret"`),
			`the answer's clientSecret is not valid UTF-8`, true),
		unstorable("accept: an id of 1 MB", answerWith("id", `"`+strings.Repeat("i", 1_000_000)+`"`),
			`the answer's id is 1000000 bytes long; enroll stores at most 256`, false),
		unstorable("accept: a name of 1 MB (--json)", answerWith("name", `"`+strings.Repeat("n", 1_000_000)+`"`),
			`the answer's name is 1000000 bytes long`, true),
		unstorable("accept: an escape sequence in the clientSecret", answerWith("clientSecret", `"issued\u001b]52;c;eA==\u0007S3cret"`),
			`the answer's clientSecret holds characters a client credential cannot`, false),
		unstorable("accept: white space around the id", answerWith("id", `" dev-hostile-1 "`),
			`the answer's id begins or ends with white space`, false),
		unstorable("accept: invalid UTF-8 in a key spelt in capitals", "{\"ID\":\"dev-hostile-1\",\"CLIENTID\":\"cid\",\"CLIENTSECRET\":\"s\xc3\x28ecret\"}",
			`the answer's CLIENTSECRET is not valid UTF-8`, false),
		unstorable("accept: a name holding the invitation token", answerWith("name", jsonString("lab "+hsToken)),
			`the answer's name holds the invitation or a client secret`, false),
		unstorable("accept: a name holding the issued secret (--json)", answerWith("name", jsonString("lab "+hsIssued)),
			`the answer's name holds the invitation or a client secret`, true),
		{name: "status: a stored name holding the secret", class: hsClean, cmd: "status", enrolled: true, storedName: "lab " + hsSecret,
			exit: 0, file: fileIntact, says: []string{`name +lab \[redacted\]`}},
		another("accept (enrolled): another clientId with a new secret", `"clientId":"somebody-else","clientSecret":`+jsonString(hsIssued)),
		another("accept (enrolled): another id without a secret", `"id":"another-device"`),
		another("accept (enrolled): another id and clientId with a new secret", `"id":"another-device","clientId":"somebody-else","clientSecret":`+jsonString(hsIssued)),
		{name: "accept: a good answer whose name is hostile", class: hsClean, cmd: "accept",
			routes: answer200(answerWith("name", jsonString(hostileName))), exit: 0, file: fileIssued,
			says: []string{`Enrolled`, `name +Lab \\x1b\[2J\\x9b31m\\u202etxt\.exe\\x07`}},
		{name: "accept: a good answer whose name is hostile (--json)", class: hsClean, cmd: "accept", json: true,
			routes: answer200(answerWith("name", jsonString(hostileName))), exit: 0, file: fileIssued,
			says: []string{`"status": "enrolled"`}},
	}
}
