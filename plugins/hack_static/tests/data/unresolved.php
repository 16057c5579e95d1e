<?hh
final class C {
  public function f(): void {
    $x = $this->getParam('email');
    Logger::log($category, dict['email' => $x]);
  }
}
