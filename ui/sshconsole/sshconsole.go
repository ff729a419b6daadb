// Package sshconsole runs the console in an SSH session of `kubectl pyroll serve`: wish's
// bubbletea middleware, with the program built on the session's channel, its window size
// (clamped by the console) and its client's environment, never this process's, and the
// session's idle clock fed by key presses.
package sshconsole

import (
	"context"
	"sync"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/bubbletea"

	"github.com/pyroll/kubectl-pyroll/internal/jumphost"
	"github.com/pyroll/kubectl-pyroll/ui/app"
)

// Open builds the console of one admitted session (the CLI connects as the session's
// user); what it starts must end with s.Context.
type Open func(s *jumphost.Session) (app.Options, error)

// Crashed is told of a session's console that panicked (the terminal is given back by
// then) and returns the line the session's user reads: the stack stays on the server's side.
type Crashed func(s *jumphost.Session, err *app.PanicError) string

// Middleware is the innermost middleware of the server: one console per session, until
// the user quits, the connection drops or a session limit passes (s.Context ends).
func Middleware(open Open, crashed Crashed) wish.Middleware {
	var guards sync.Map // ssh.Session -> its console's crashed func
	console := bubbletea.MiddlewareWithProgramHandler(func(sess ssh.Session) *tea.Program {
		s := jumphost.SessionOf(sess)
		if s == nil {
			wish.Fatalln(sess, "pyroll: no session")
			return nil
		}
		opts, err := open(s)
		if err != nil {
			wish.Fatalf(sess, "pyroll: %v\r\n", err)
			return nil
		}
		// Not stopped through a context (that kills the program): quit, so that the
		// terminal is restored before the session says why it ends.
		p, crash := app.GuardedProgram(context.Background(), opts, Terminal(sess, s))
		guards.Store(sess, crash)
		go func() {
			<-s.Context.Done()
			p.Quit()
		}()
		return p
	})
	return func(next ssh.Handler) ssh.Handler {
		// Runs once the console has ended and given the terminal back.
		return console(func(sess ssh.Session) {
			if crash, ok := guards.LoadAndDelete(sess); ok {
				if err := crash.(func() *app.PanicError)(); err != nil && crashed != nil {
					wish.Errorf(sess, "%s\r\n", crashed(jumphost.SessionOf(sess), err))
				}
			}
			next(sess)
		})
	}
}

// Terminal is the session's terminal for the console.
func Terminal(sess ssh.Session, s *jumphost.Session) app.Terminal {
	return app.Terminal{In: sess, Out: sess, Remote: true, Width: s.Width, Height: s.Height, Env: s.Env, OnKey: s.Deadlines.KeyPressed}
}
