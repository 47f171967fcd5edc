package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/latchkey/latchkey/internal/account"
)

//go:embed templates/*.txt templates/*.html
var templateFS embed.FS

// templates are the messages there are, each a NAME.txt defining "subject"
// and "body" and a NAME.html defining "body" (inside layout.html).
var templates = []string{
	account.TemplateReset,
	account.TemplateWelcome,
	account.TemplateSSOReminder,
	account.TemplatePasswordChanged,
	account.TemplateEmailChanged,
}

var funcs = map[string]any{
	// when shows a time the same way in every message, in UTC: the message
	// does not know the reader's zone.
	"when": func(t time.Time) string { return t.UTC().Format("15:04 UTC on Monday 2 January 2006") },
}

// Renderer renders the embedded templates; it implements account.Renderer.
// Text bodies use text/template, HTML bodies html/template, which escapes
// names and refuses links that are not http(s). It is safe for concurrent
// use.
type Renderer struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

var _ account.Renderer = (*Renderer)(nil)

// NewRenderer parses every template and checks that each defines what
// Render needs, so that a broken template fails at start, not at send.
func NewRenderer() (*Renderer, error) {
	r := &Renderer{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, name := range templates {
		tt, err := texttemplate.New(name).Funcs(funcs).ParseFS(templateFS, "templates/"+name+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail: template %s: %w", name, err)
		}
		for _, part := range []string{"subject", "body"} {
			if tt.Lookup(part) == nil {
				return nil, fmt.Errorf("mail: template %s.txt defines no %q", name, part)
			}
		}
		ht, err := htmltemplate.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: template %s: %w", name, err)
		}
		if ht.Lookup("body") == nil {
			return nil, fmt.Errorf("mail: template %s.html defines no \"body\"", name)
		}
		r.text[name], r.html[name] = tt, ht
	}
	return r, nil
}

// view is what the templates see: the message data and its subject.
type view struct {
	account.MessageData
	Subject string
}

// Render returns the subject and the text and HTML bodies of the named
// template (one of the account.Template… names) for d. The subject is one
// line: any line break or other control character in d (an organization or
// user name, say) becomes a space, so it cannot add a header.
func (r *Renderer) Render(name string, d account.MessageData) (subject, text, html string, err error) {
	tt, ok := r.text[name]
	if !ok {
		return "", "", "", fmt.Errorf("mail: no template %q", name)
	}
	var b bytes.Buffer
	if err := tt.ExecuteTemplate(&b, "subject", d); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s subject: %w", name, err)
	}
	subject = HeaderText(b.String())
	b.Reset()
	if err := tt.ExecuteTemplate(&b, "body", d); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s text: %w", name, err)
	}
	text = b.String()
	b.Reset()
	if err := r.html[name].ExecuteTemplate(&b, "layout", view{MessageData: d, Subject: subject}); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s html: %w", name, err)
	}
	return subject, text, b.String(), nil
}

// HeaderText makes s safe as the text of a header such as Subject or a
// display name: every run of spaces, line breaks and other control or
// invisible formatting characters becomes one space, and the ends are
// trimmed. Use it on names before they reach account.Email.FromName.
func HeaderText(s string) string {
	var b strings.Builder
	space := false
	for _, c := range s {
		if unicode.IsSpace(c) || unicode.IsControl(c) || unicode.Is(unicode.Cf, c) || c == unicode.ReplacementChar {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(c)
	}
	return b.String()
}
