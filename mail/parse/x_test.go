package parse
import ("testing"; "os"; "io/fs"; "path/filepath"; "strings"; "fmt")
func TestX(t *testing.T){
 filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
  if d.IsDir() || notMail.MatchString(path) { return nil }
  b, _ := os.ReadFile(path)
  if !looksLikeMail(b) { return nil }
  for _, raw := range splitMbox(b) {
   m := Parse(raw)
   for _, w := range m.Warnings {
     if strings.Contains(w, os.Getenv("W")) { fmt.Printf("%s\n   %s\n", strings.TrimPrefix(path, corpusDir), w) }
   }
  }
  return nil
 })
}
