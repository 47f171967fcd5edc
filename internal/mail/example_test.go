package mail_test

import (
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/mail"
)

// A reset email rendered from the embedded templates, and the SMTP URL it
// would go out through; serve wires these to a Worker over the store:
//
//	sender, _ := mail.NewSender(cfg, mail.SenderOptions{From: "noreply@metrofire.example"})
//	w := mail.NewWorker(db, sender, logger, mail.WorkerOptions{})
//	go w.Run(ctx)
func Example() {
	r, err := mail.NewRenderer()
	if err != nil {
		log.Fatal(err)
	}
	subject, text, _, err := r.Render(account.TemplateReset, account.MessageData{
		OrgName:   "Metro Fire",
		UserName:  "Ann Lee",
		Email:     "ann@metrofire.example",
		Link:      "https://id.metrofire.example/o/metro-fire/reset-password?token=q3Vx",
		Code:      "04718295",
		ExpiresAt: time.Date(2025, 3, 4, 6, 6, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(subject)
	fmt.Println(strings.Contains(text, "04718295"))

	cfg, err := mail.ParseSMTPURL("smtp://relay:hunter2@smtp.metrofire.example")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg)
	// Output:
	// Reset your Metro Fire password
	// true
	// smtp://relay:REDACTED@smtp.metrofire.example:587
}
