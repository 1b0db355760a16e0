@main struct Tween { static func main() {} }
