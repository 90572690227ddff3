// Command broken is a test fixture for lambdabuild: it does not compile.
package main

func main() {
	var n int = "not a number"
	_ = n
}
