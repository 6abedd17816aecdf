print("boxwalk placeholder")
