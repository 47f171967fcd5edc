package importer_test

import (
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/importer"
)

func ExampleRead() {
	file := "Email;Name;Roles;send_welcome\n" +
		"ann@example.org;Ann Lee;\"User;Dispatcher\";yes\n" +
		"\n" +
		"bob@example.org;Bob;User;perhaps\n"
	rows, problems, err := importer.Read(strings.NewReader(file), importer.CSV, 1000)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rows {
		fmt.Println(r.Line, r.Email, r.Name, r.Roles, r.SendWelcome != nil && *r.SendWelcome)
	}
	for _, p := range problems {
		fmt.Printf("row %d, %s: %s\n", p.Row, p.Field, p.Message)
	}
	// Output:
	// 2 ann@example.org Ann Lee [User Dispatcher] true
	// 4 bob@example.org Bob [User] false
	// row 4, send_welcome: want true or false (or yes/no, y/n, 1/0)
}

func ExampleCSVWriter() {
	var b strings.Builder
	w := importer.NewCSVWriter(&b)
	w.Write([]string{"email", "name"})
	w.Write([]string{"ann@example.org", "=HYPERLINK(\"http://example.com\")"})
	if err := w.Flush(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(b.String(), "\r\n", "\n")) // lines end in CRLF
	// Output:
	// email,name
	// ann@example.org,"'=HYPERLINK(""http://example.com"")"
}
